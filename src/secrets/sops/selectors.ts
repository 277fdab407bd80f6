/**
 * Which values of a document sops encrypts: one rule per file (a key suffix, a key regex, or a
 * regex over the comments above a value), `_unencrypted` suffix by default. Decisions depend on
 * the value's path of map keys, exactly as in sops's Tree.shouldBeEncrypted. The regexes are
 * Go's RE2, as sops reads them, and run on RE2 here too: they come from the file, so from
 * whoever can push to the repository.
 */
import { compileUserPattern, describePattern, UserPatternError, type UserPattern } from "../../util/user-pattern.ts";

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

export interface CompiledRules {
  rules: CryptRules;
  /** Comment rules decide from comments, whose placement differs between YAML parsers. */
  byComments: boolean;
  shouldBeEncrypted(path: readonly string[], commentsStack: ReadonlyArray<readonly string[]>, isComment: boolean): boolean;
  /** Whether `unencrypted_comment_regex` is set and matches the text. */
  leavesCommentUnencrypted(text: string): boolean;
}

/** Throws (with the field and regex named, never a value) when a regex cannot be used. */
export function compileRules(rules: CryptRules): CompiledRules {
  const compile = (field: keyof CryptRules): KeyTest | undefined => {
    const source = rules[field];
    if (!source) return undefined;
    try {
      return remembering(compileUserPattern(source));
    } catch (error) {
      if (!(error instanceof UserPatternError)) throw error;
      throw new Error(`${RULE_FIELDS[field]} ${describePattern(source)} is not a valid regular expression: ${error.message}`, { cause: error });
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
      if (unencryptedRegex && path.some(unencryptedRegex)) encrypted = false;
      if (encryptedRegex) encrypted = path.some(encryptedRegex);
      if (unencryptedCommentRegex && commentsStack.some((frame) => frame.some(unencryptedCommentRegex))) {
        encrypted = false;
      }
      if (encryptedCommentRegex) {
        // The comment that carries the marker is itself left in clear text.
        const last = commentsStack.length - 1;
        encrypted = commentsStack.some((frame, i) =>
          frame.some((comment, j) => !(isComment && i === last && j === frame.length - 1) && encryptedCommentRegex(comment)),
        );
      }
      return encrypted;
    },
    leavesCommentUnencrypted: (text) => unencryptedCommentRegex?.(text) ?? false,
  };
}

type KeyTest = (text: string) => boolean;

/** A document repeats the same keys on every path through it: each is matched once. */
function remembering(pattern: UserPattern): KeyTest {
  const seen = new Map<string, boolean>();
  return (text) => {
    let matched = seen.get(text);
    if (matched === undefined) {
      matched = pattern.test(text);
      seen.set(text, matched);
    }
    return matched;
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
