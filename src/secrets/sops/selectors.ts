/**
 * Which values of a document sops encrypts: one rule per file (a key suffix, a key regex, or a
 * regex over the comments above a value), `_unencrypted` suffix by default. Decisions depend on
 * the value's path of map keys, exactly as in sops's Tree.shouldBeEncrypted.
 */

export interface CryptRules {
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: string;
  encryptedRegex?: string;
  unencryptedCommentRegex?: string;
  encryptedCommentRegex?: string;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";

export const RULE_FIELDS = {
  unencryptedSuffix: "unencrypted_suffix",
  encryptedSuffix: "encrypted_suffix",
  unencryptedRegex: "unencrypted_regex",
  encryptedRegex: "encrypted_regex",
  unencryptedCommentRegex: "unencrypted_comment_regex",
  encryptedCommentRegex: "encrypted_comment_regex",
} as const satisfies Record<keyof CryptRules, string>;

/**
 * Go's RE2 syntax as a JS RegExp: leading inline flags (`(?i)`) become RegExp flags and
 * `(?P<name>` becomes `(?<name>`; everything else sops users write is the same in both.
 */
export function goRegExp(source: string): RegExp {
  let pattern = source;
  let flags = "u";
  const inline = /^\(\?([imsU]+)\)/.exec(pattern);
  if (inline) {
    pattern = pattern.slice(inline[0].length);
    for (const flag of inline[1]!) if (flag !== "U" && !flags.includes(flag)) flags += flag;
  }
  pattern = pattern.replace(/\(\?P</g, "(?<").replace(/\\z/g, "$");
  return new RegExp(pattern, flags);
}

export interface CompiledRules {
  rules: CryptRules;
  /** Comment rules decide from comments, whose placement differs between YAML parsers. */
  byComments: boolean;
  shouldBeEncrypted(path: readonly string[], commentsStack: ReadonlyArray<readonly string[]>, isComment: boolean): boolean;
}

/** Throws (with the regex named, never a value) when a regex does not compile. */
export function compileRules(rules: CryptRules): CompiledRules {
  const compile = (field: keyof CryptRules): RegExp | undefined => {
    const source = rules[field];
    if (!source) return undefined;
    try {
      return goRegExp(source);
    } catch (error) {
      throw new Error(`${RULE_FIELDS[field]} ${JSON.stringify(source)} is not a valid regular expression: ${(error as Error).message}`, { cause: error });
    }
  };
  const unencryptedRegex = compile("unencryptedRegex");
  const encryptedRegex = compile("encryptedRegex");
  const unencryptedCommentRegex = compile("unencryptedCommentRegex");
  const encryptedCommentRegex = compile("encryptedCommentRegex");
  const { unencryptedSuffix, encryptedSuffix } = rules;

  return {
    rules,
    byComments: Boolean(unencryptedCommentRegex || encryptedCommentRegex),
    shouldBeEncrypted(path, commentsStack, isComment) {
      let encrypted = true;
      if (unencryptedSuffix && path.some((key) => key.endsWith(unencryptedSuffix))) encrypted = false;
      if (encryptedSuffix) encrypted = path.some((key) => key.endsWith(encryptedSuffix));
      if (unencryptedRegex && path.some((key) => unencryptedRegex.test(key))) encrypted = false;
      if (encryptedRegex) encrypted = path.some((key) => encryptedRegex.test(key));
      if (unencryptedCommentRegex && commentsStack.some((frame) => frame.some((comment) => unencryptedCommentRegex.test(comment)))) {
        encrypted = false;
      }
      if (encryptedCommentRegex) {
        // The comment that carries the marker is itself left in clear text.
        const last = commentsStack.length - 1;
        encrypted = commentsStack.some((frame, i) =>
          frame.some((comment, j) => !(isComment && i === last && j === frame.length - 1) && encryptedCommentRegex.test(comment)),
        );
      }
      return encrypted;
    },
  };
}

/** The one rule in effect, as metadata fields; more than one is an error in sops too. */
export function activeRule(rules: CryptRules): CryptRules {
  const set = (Object.keys(RULE_FIELDS) as Array<keyof CryptRules>).filter((field) => rules[field]);
  if (set.length > 1) {
    throw new Error(`only one of ${Object.values(RULE_FIELDS).join(", ")} may be set, not ${set.map((field) => RULE_FIELDS[field]).join(" and ")}`);
  }
  return set.length === 0 ? { unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX } : { [set[0]!]: rules[set[0]!] };
}
