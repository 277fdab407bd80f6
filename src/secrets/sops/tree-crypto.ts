/**
 * Encrypts or decrypts every selected value of a document with the data key, computing the MAC
 * on the way, in the same walk and order as sops's Tree.Encrypt / Tree.Decrypt: document order,
 * map keys (not list indices) as the path, comments encrypted but never hashed.
 *
 * Decryption never evaluates the file's own rules (its regexes are written by whoever can push)
 * before the data is authenticated: which values to decrypt follows from the values themselves
 * (an ENC[...] value that authenticates under the data key at its path), the MAC is checked over
 * that, and only then are the rules compiled and checked to agree with what was encrypted.
 */
import { createHash, randomBytes } from "node:crypto";
import { decryptValue, encryptValue, IV_SIZE, parseEncryptedValue } from "./cipher.ts";
import { SopsProblem } from "./errors.ts";
import { scalarBytes, scalarFromPlaintext, scalarText } from "./go-format.ts";
import { compileRules, RULE_FIELDS, type CompiledRules, type CryptRules } from "./selectors.ts";
import type { Branches, CommentItem, MapNode, ScalarNode, SeqNode, SopsScalar, TreeValue } from "./tree.ts";

/**
 * sha256("sops"): hashed first when only encrypted values are in the MAC, so such a MAC never
 * equals the MAC of the same document without the option.
 */
const MAC_ONLY_ENCRYPTED_PREFIX = Buffer.from("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69", "hex");

/**
 * IVs of values as they were decrypted, by path, type and plaintext. Re-encrypting an unchanged
 * value with its old IV gives the old ciphertext, so an edit changes only the lines it touched
 * (sops does the same). A changed value never matches, so no IV is reused for new plaintext.
 */
export type IvStash = Map<string, Uint8Array>;

export interface TreeCryptoOptions {
  rules: CompiledRules;
  macOnlyEncrypted: boolean;
  dataKey: Uint8Array;
  stash?: IvStash;
}

export interface TreeCryptoResult {
  branches: Branches;
  /** Upper-case hex SHA-512, as sops stores it (encrypted) in `mac`. */
  mac: string;
}

type Leaf = ScalarNode | CommentItem;
type Visit = (leaf: Leaf, path: string[], commentsStack: string[][]) => Leaf;

function walkValue(value: TreeValue, path: string[], stack: string[][], visit: Visit): TreeValue {
  if (value.kind === "map") return walkMap(value, path, stack, visit);
  if (value.kind === "seq") return walkSeq(value, path, stack, visit);
  // sops skips nulls: they are neither encrypted nor hashed.
  return value.scalar.type === "null" ? value : (visit(value, path, stack) as ScalarNode);
}

function walkMap(map: MapNode, path: string[], stack: string[][], visit: Visit): MapNode {
  // Comments seen since the last value, per nesting level: the comment rules look at them.
  const frame: string[] = [];
  const inner = [...stack, frame];
  const items = map.items.map((item) => {
    if (item.kind === "comment") {
      frame.push(item.text);
      return visit(item, path, inner) as CommentItem;
    }
    const value = walkValue(item.value, [...path, item.key], inner, visit);
    frame.length = 0;
    return { ...item, value };
  });
  return { kind: "map", items };
}

function walkSeq(seq: SeqNode, path: string[], stack: string[][], visit: Visit): SeqNode {
  const frame: string[] = [];
  const inner = [...stack, frame];
  const items = seq.items.map((item) => {
    if (item.kind === "comment") {
      frame.push(item.text);
      return visit(item, path, inner);
    }
    const value = walkValue(item, path, inner, visit);
    frame.length = 0;
    return value;
  });
  return { kind: "seq", items };
}

function walkBranches(branches: Branches, visit: Visit): Branches {
  return branches.map((branch) => walkMap(branch, [], [], visit));
}

function additionalData(path: readonly string[]): string {
  return `${path.join(":")}:`;
}

function stashKey(additional: string, scalar: SopsScalar | { type: "comment"; value: string }): string {
  const text = scalar.type === "comment" ? scalar.value : scalar.type === "null" ? "" : scalar.type === "bytes" ? Buffer.from(scalar.value).toString("base64") : scalarText(scalar);
  return `${additional}\u0000${scalar.type}\u0000${text}`;
}

/** A path for messages: the keys, never a value. */
export function describePath(path: readonly string[]): string {
  return path.length === 0 ? "the top level" : path.join(".");
}

function newHash(macOnlyEncrypted: boolean) {
  const hash = createHash("sha512");
  if (macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_PREFIX);
  return hash;
}

export function encryptTree(branches: Branches, options: TreeCryptoOptions): TreeCryptoResult {
  const { rules, macOnlyEncrypted, dataKey, stash } = options;
  const hash = newHash(macOnlyEncrypted);
  const ivFor = (key: string): Uint8Array => stash?.get(key) ?? randomBytes(IV_SIZE);
  const encrypted = walkBranches(branches, (leaf, path, stack) => {
    const isComment = leaf.kind === "comment";
    const selected = rules.shouldBeEncrypted(path, stack, isComment);
    if (!isComment && (!macOnlyEncrypted || selected)) hash.update(scalarBytes(leaf.scalar as Exclude<SopsScalar, { type: "null" }>));
    if (!selected) return leaf;
    const ad = additionalData(path);
    if (isComment) {
      if (leaf.text === "") return leaf;
      const text = encryptValue(Buffer.from(leaf.text, "utf8"), "comment", dataKey, ad, ivFor(stashKey(ad, { type: "comment", value: leaf.text })));
      if (rules.leavesCommentUnencrypted(text)) {
        throw new SopsProblem("invalid-input", "an encrypted comment matches unencrypted_comment_regex, so it could not be decrypted again", "use an unencrypted_comment_regex that cannot match `ENC[...]`");
      }
      return { ...leaf, text };
    }
    const scalar = leaf.scalar as Exclude<SopsScalar, { type: "null" }>;
    const bytes = scalarBytes(scalar);
    // Empty values stay empty: sops has nothing to encrypt there.
    if (bytes.length === 0 && (scalar.type === "str" || scalar.type === "bytes")) return leaf;
    // Go hands []byte to the cipher as a string.
    const type = scalar.type === "bytes" ? "str" : scalar.type;
    const value = encryptValue(bytes, type, dataKey, ad, ivFor(stashKey(ad, scalar)));
    return { kind: "scalar", scalar: { type: "str", value } };
  });
  return { branches: encrypted, mac: hash.digest("hex").toUpperCase() };
}

function tampered(path: readonly string[], what: string): SopsProblem {
  return new SopsProblem(
    "tampered",
    `the value at ${describePath(path)} ${what}: the file was modified after encryption`,
    "restore the file from version control, or re-create the value with `fjord secrets edit` or `sops edit`",
  );
}

function decryptComment(leaf: CommentItem, path: string[], dataKey: Uint8Array, stash: IvStash | undefined): CommentItem {
  const encrypted = parseEncryptedValue(leaf.text);
  if (!encrypted || encrypted.type !== "comment") return leaf;
  // Comments sit between values, and YAML parsers disagree on which level a comment belongs
  // to; the enclosing levels are the only candidates, and GCM tells the right one.
  for (let depth = path.length; depth >= 0; depth--) {
    const ad = additionalData(path.slice(0, depth));
    const plaintext = decryptValue(encrypted, dataKey, ad);
    if (plaintext) {
      const text = plaintext.toString("utf8");
      stash?.set(stashKey(ad, { type: "comment", value: text }), encrypted.iv);
      return { ...leaf, text };
    }
  }
  // sops keeps a comment it cannot decrypt as it is; comments are not covered by the MAC.
  return leaf;
}

export interface DecryptTreeOptions {
  /** The file's rules, as its metadata gives them: compiled only once the MAC has verified. */
  rules: CryptRules;
  macOnlyEncrypted: boolean;
  dataKey: Uint8Array;
  stash?: IvStash;
  /** Throws when `mac` (upper-case hex SHA-512 of what was decrypted) is not the file's MAC. */
  verifyMac: (mac: string) => void;
}

/** How a value was read before the MAC was checked. */
type LeafState =
  /** An ENC[...] value that authenticates under the data key at its path. */
  | "encrypted"
  /** ENC[...]-shaped but not authentic here: tampered, or text that merely looks encrypted. */
  | "unauthenticated"
  | "plain";

interface ReadLeaf {
  path: readonly string[];
  state: LeafState;
  /** As it is in the file. */
  stored: Exclude<SopsScalar, { type: "null" }>;
}

export function decryptTree(branches: Branches, options: DecryptTreeOptions): Branches {
  const { macOnlyEncrypted, dataKey, stash } = options;
  const hash = newHash(macOnlyEncrypted);
  const leaves: ReadLeaf[] = [];
  const decrypted = walkBranches(branches, (leaf, path) => {
    if (leaf.kind === "comment") return decryptComment(leaf, path, dataKey, stash);
    const stored = leaf.scalar as Exclude<SopsScalar, { type: "null" }>;
    let result: SopsScalar = stored;
    let state: LeafState = "plain";
    const encrypted = stored.type === "str" ? parseEncryptedValue(stored.value) : undefined;
    if (encrypted) {
      const ad = additionalData(path);
      const plaintext = decryptValue(encrypted, dataKey, ad);
      if (plaintext) {
        const restored = scalarFromPlaintext(encrypted.type, plaintext);
        if (!restored) throw tampered(path, `does not hold a valid value of its type ${JSON.stringify(encrypted.type)}`);
        stash?.set(stashKey(ad, restored), encrypted.iv);
        result = restored;
        state = "encrypted";
      } else {
        state = "unauthenticated";
      }
    }
    leaves.push({ path, state, stored });
    // As sops hashes: every value, or with mac_only_encrypted the encrypted ones (an empty value
    // the rules select is left empty by sops and hashes to nothing either way).
    if (!macOnlyEncrypted || state === "encrypted") hash.update(scalarBytes(result as Exclude<SopsScalar, { type: "null" }>));
    return { kind: "scalar", scalar: result };
  });

  try {
    options.verifyMac(hash.digest("hex").toUpperCase());
  } catch (error) {
    // A value that fails to authenticate explains the mismatch better, and names where.
    const forged = leaves.find((leaf) => leaf.state === "unauthenticated");
    if (forged) throw tampered(forged.path, "does not authenticate");
    throw error;
  }

  // Authenticated: now the file's rules may run, and must agree with what was encrypted.
  let rules: CompiledRules;
  try {
    rules = compileRules(options.rules);
  } catch (error) {
    throw new SopsProblem("invalid-file", (error as Error).message, "write the rule in Go's RE2 syntax, as sops reads it");
  }
  // With comment rules the decision depends on where a parser puts comments (YAML parsers
  // disagree), so it is not checked again: an encrypted value announced itself and the MAC
  // verified what was read.
  if (!rules.byComments) {
    for (const leaf of leaves) checkAgainstRules(leaf, rules.shouldBeEncrypted(leaf.path, [], false), options.rules);
  }
  return decrypted;
}

function checkAgainstRules(leaf: ReadLeaf, selected: boolean, rules: CryptRules): void {
  const { path, state, stored } = leaf;
  if (state === "encrypted" && !selected) {
    const active = (Object.keys(RULE_FIELDS) as Array<keyof CryptRules>).filter((field) => rules[field]).map((field) => RULE_FIELDS[field]);
    throw tampered(path, `is encrypted, but the file's rules (${active.join(", ") || "unencrypted_suffix"}) leave it in clear text`);
  }
  if (!selected || state === "encrypted") return;
  if (state === "unauthenticated") throw tampered(path, "does not authenticate");
  if (stored.type !== "str") throw tampered(path, `is a plain ${stored.type}, but the file's rules say it is encrypted`);
  // sops leaves an empty value empty: there is nothing to encrypt.
  if (stored.value !== "") throw tampered(path, "is not an ENC[...] value, but the file's rules say it is encrypted");
}
