/**
 * Encrypts or decrypts every selected value of a document with the data key, computing the MAC
 * on the way, in the same walk and order as sops's Tree.Encrypt / Tree.Decrypt: document order,
 * map keys (not list indices) as the path, comments encrypted but never hashed.
 */
import { createHash, randomBytes } from "node:crypto";
import { decryptValue, encryptValue, isEncryptedValue, IV_SIZE, parseEncryptedValue } from "./cipher.ts";
import { SopsProblem } from "./errors.ts";
import { scalarBytes, scalarFromPlaintext, scalarText } from "./go-format.ts";
import { goRegExp, type CompiledRules } from "./selectors.ts";
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
      if (rules.rules.unencryptedCommentRegex && goRegExp(rules.rules.unencryptedCommentRegex).test(text)) {
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

export function decryptTree(branches: Branches, options: TreeCryptoOptions): TreeCryptoResult {
  const { rules, macOnlyEncrypted, dataKey, stash } = options;
  const hash = newHash(macOnlyEncrypted);
  const decrypted = walkBranches(branches, (leaf, path, stack) => {
    if (leaf.kind === "comment") return decryptComment(leaf, path, dataKey, stash);
    const scalar = leaf.scalar;
    // With comment rules the decision depends on where a parser puts comments; an encrypted
    // value announces itself, and the MAC still covers every value either way.
    const selected = rules.byComments ? scalar.type === "str" && isEncryptedValue(scalar.value) : rules.shouldBeEncrypted(path, stack, false);
    let result: SopsScalar = scalar;
    if (selected) {
      if (scalar.type !== "str") throw tampered(path, `is a plain ${scalar.type}, but the file's rules say it is encrypted`);
      if (scalar.value !== "") {
        const encrypted = parseEncryptedValue(scalar.value);
        if (!encrypted) throw tampered(path, "is not an ENC[...] value, but the file's rules say it is encrypted");
        const ad = additionalData(path);
        const plaintext = decryptValue(encrypted, dataKey, ad);
        if (!plaintext) throw tampered(path, "does not authenticate");
        const restored = scalarFromPlaintext(encrypted.type, plaintext);
        if (!restored) throw tampered(path, `does not hold a valid value of its type ${JSON.stringify(encrypted.type)}`);
        stash?.set(stashKey(ad, restored), encrypted.iv);
        result = restored;
      }
    }
    if (!macOnlyEncrypted || selected) hash.update(scalarBytes(result as Exclude<SopsScalar, { type: "null" }>));
    return { kind: "scalar", scalar: result };
  });
  return { branches: decrypted, mac: hash.digest("hex").toUpperCase() };
}
