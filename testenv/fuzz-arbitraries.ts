/**
 * Inputs shaped the way an attacker shapes them, for the fuzz targets (testenv/fuzz.ts): not
 * random characters alone, which a parser rejects on the first byte, but the pieces that broke
 * parsers before: deep nesting, anchors, aliases and merge keys, tags and directives, huge and
 * odd numbers, control characters and Unicode that folds onto ASCII, `..` and absolute paths,
 * strings that read as command-line flags, long repetitions, duplicate keys, bad base64 and
 * lone surrogates. Valid seed texts are mutated with them, so that the parser gets deep.
 */
import fc from "fast-check";

/** Pieces that have meaning to some parser, shell, path resolver or terminal. */
export const HOSTILE_FRAGMENTS: readonly string[] = [
  // paths and flags
  "..", "../", "../../etc/passwd", "/etc/passwd", "/var/run/secrets/kubernetes.io/serviceaccount/token", "C:\\Windows", "\\\\host\\share",
  "--post-renderer=pwn.sh", "-oProxyCommand=touch /tmp/pwn", "--upload-pack=touch /tmp/pwn", "-", "--",
  "file:///etc/passwd", "file://", "ext::sh -c touch% /tmp/pwn", "git@github.com:org/repo.git", "https://example.com/repo.git", "ssh://-oProxyCommand=x/repo",
  "github.com/org/repo//path?ref=v1", "oci://registry/charts", "http://169.254.169.254/latest/meta-data/",
  // control characters, line ends and Unicode
  "\u0000", "\u0007", "\u001b[31m", "\u001b]0;title\u0007", "\r", "\r\n", "\n", "\t", "\u000b", "\u000c", "\u0085", "\u2028", "\u2029",
  "\u200b", "\u200e", "\u202e", "\ufeff", "\ufffd", "\ud800", "\udfff", "\ud83d\ude00", "\u0130", "\u0131", "\u017f", "\u212a", "\u00df",
  "\u0301", "Re\u017fources", "\u212aind", "RESOURCES", "Resources",
  // numbers
  "1e309", "-1e309", "99999999999999999999999999", "0x7fffffffffffffff", "-0", "0o777", "012", "0b101", ".inf", "-.Inf", ".nan", "NaN",
  "1_000", "1:20:30", "2001-12-14t21:59:43.10-05:00", "~", "null", "Null", "yes", "on", "off", "y", "n",
  // YAML structure
  "&a ", "*a", "*", "&", "!", "<<: *a", "<<: {a: 1}", "<<: [*a, *a]", "!!str ", "!!binary ", "!!python/object:os.system ", "!custom ", "!<tag:yaml.org,2002:str> ",
  "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "--- |\n", "? ", ": ", "- ", "{", "}", "[", "]", ",", "|-\n", ">+\n", "'", '"', "#", "@", "`",
  "a: &x [*x]", "key: 1\nkey: 2\n", '"\\x00\\uD800\\U0010FFFF"', '"\\', "'''",
  // JSON and base64
  '{"a":', '"\\u0000"', '"__proto__"', '{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {}}}', "[[[[[[[[", "]]]]]]]]",
  "AAAA", "AgB=", "====", "A===", "AgBxyz!", "ENC[AES256_GCM,data:,iv:,tag:,type:str]", "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:int]",
  // patterns
  "(a+)+$", "(?P<ts>", "\\", "[[:alpha:]", "(?i)", "\\Q", "*a*a*a*a*a*b", "?*?*?*", "${1}", "$ts", "\\p{L}",
];

export const hostileFragment: fc.Arbitrary<string> = fc.constantFrom(...HOSTILE_FRAGMENTS);

/** A short piece: a hostile fragment, any Unicode, or one odd character. */
export const piece: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileFragment },
  { weight: 2, arbitrary: fc.string({ maxLength: 12, unit: "grapheme-ascii" }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: "binary" }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
);

/** A piece repeated (long runs: `aaaa...`, `[[[[...`, `*a*a*a...`). */
export const repeated: fc.Arbitrary<string> = fc.tuple(piece, fc.integer({ min: 2, max: 3000 })).map(([text, times]) => text.repeat(times).slice(0, 20_000));

/** A string made of pieces and repetitions: what goes where a name, URL, tag or value goes. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.array(piece, { maxLength: 6 }).map((parts) => parts.join("")) },
  { weight: 1, arbitrary: repeated },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
);

type Mutation = { kind: "insert"; at: number; text: string } | { kind: "delete"; at: number; length: number } | { kind: "duplicate"; at: number; length: number; times: number } | { kind: "truncate"; at: number } | { kind: "flip"; at: number; code: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(piece, repeated) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 80 }), times: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), code: fc.integer({ min: 0, max: 0x7f }) }) },
);

function applyMutation(text: string, change: Mutation): string {
  const at = text.length === 0 ? 0 : change.at % (text.length + 1);
  switch (change.kind) {
    case "insert":
      return text.slice(0, at) + change.text + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + change.length);
    case "duplicate":
      return text.slice(0, at) + text.slice(at, at + change.length).repeat(change.times + 1) + text.slice(at + change.length);
    case "truncate":
      return text.slice(0, at);
    case "flip":
      return text.slice(0, at) + String.fromCharCode(change.code) + text.slice(at + 1);
  }
}

/** A seed text with a few mutations applied; the seed itself, unchanged, now and then. */
export function mutated(seeds: fc.Arbitrary<string>, maxMutations = 4): fc.Arbitrary<string> {
  return fc.tuple(seeds, fc.array(mutation, { maxLength: maxMutations })).map(([seed, changes]) => changes.reduce(applyMutation, seed));
}

/** Keys of a YAML map: ordinary field names, look-alikes that Go folds, YAML 1.1 non-strings, duplicates. */
const yamlKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("apiVersion", "kind", "metadata", "name", "data", "resources", "Resources", "re\u017fources", "\u212aind", "<<", "on", "1", "~", "? [a]", '"quoted"', "'q'", "a b", "x"),
  fc.string({ minLength: 1, maxLength: 8, unit: "grapheme-ascii" }).filter((key) => /^[A-Za-z_][\w.-]*$/.test(key)),
);

const yamlScalar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("1", "012", "0x1F", "1e309", "99999999999999999999", ".inf", ".nan", "yes", "on", "~", "null", "''", '""', '"\\u0000"', '"\\x41"', "'it''s'", "|\n  block\n", ">-\n  folded\n", "2024-01-01", "!!binary AAAA", "!!str 1", "!custom x", "*a", "*undefined"),
  fc.string({ maxLength: 16, unit: "grapheme-ascii" }).map((text) => JSON.stringify(text)),
  fc.string({ minLength: 1, maxLength: 10, unit: "grapheme-ascii" }).filter((text) => /^[A-Za-z0-9][\w./-]*$/.test(text)),
  hostileFragment.map((text) => JSON.stringify(text)),
);

interface YamlTree {
  text: (indent: string) => string;
}

/** YAML built from its grammar: block and flow collections, anchors on nodes, aliases and merge keys among the values. */
export const yamlDocument: fc.Arbitrary<string> = fc
  .letrec<{ node: YamlTree }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      yamlScalar.map((text): YamlTree => ({ text: () => text })),
      fc
        .tuple(fc.array(fc.tuple(yamlKey, tie("node")), { maxLength: 4 }), fc.boolean(), fc.option(fc.constantFrom("a", "b"), { nil: undefined }))
        .map(([pairs, flow, anchor]): YamlTree => ({
          text: (indent) => {
            const prefix = anchor ? `&${anchor} ` : "";
            if (flow || pairs.length === 0) return `${prefix}{${pairs.map(([key, value]) => `${key}: ${value.text("")}`).join(", ")}}`;
            return `${prefix}\n${pairs.map(([key, value]) => `${indent}  ${key}: ${value.text(`${indent}  `)}`).join("\n")}`;
          },
        })),
      fc.tuple(fc.array(tie("node"), { maxLength: 4 }), fc.boolean()).map(([items, flow]): YamlTree => ({
        text: (indent) => (flow || items.length === 0 ? `[${items.map((item) => item.text("")).join(", ")}]` : `\n${items.map((item) => `${indent}- ${item.text(`${indent}  `)}`).join("\n")}`),
      })),
    ),
  }))
  .node.map((tree) => `${tree.text("").replace(/^\n/, "")}\n`);

/** Collections nested `depth` deep, flow or block. */
export const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 50, max: 5000 }), fc.constantFrom("flow-seq", "flow-map", "block-seq", "mixed"))
  .map(([depth, style]) => {
    switch (style) {
      case "flow-seq":
        return `${"[".repeat(depth)}1${"]".repeat(depth)}\n`;
      case "flow-map":
        return `${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`;
      case "block-seq":
        return `${"- ".repeat(Math.min(depth, 2000))}x\n`;
      case "mixed":
        return `${"{a: [".repeat(depth >> 1)}1${"]}".repeat(depth >> 1)}\n`;
    }
  });

/** The "billion laughs": each level aliases the one before it several times. */
export const aliasBomb: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 2, max: 12 }), fc.boolean()).map(([levels, fan, merge]) => {
  const lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let level = 1; level < levels; level++) {
    const aliases = Array.from({ length: fan }, () => `*l${level - 1}`).join(", ");
    lines.push(merge && level > 1 ? `l${level}: &l${level} {<<: [${aliases}], k${level}: [${aliases}]}` : `l${level}: &l${level} [${aliases}]`);
  }
  return `${lines.join("\n")}\n`;
});

/** Maps with many keys, some of them the same (a parser comparing each key with every other is quadratic). */
export const manyKeys: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 100, max: 10_000 }), fc.boolean()).map(([count, duplicate]) => {
  const lines = Array.from({ length: count }, (_, i) => `k${duplicate ? i % 97 : i}: v`);
  return `${lines.join("\n")}\n`;
});

/** Any of the YAML shapes above, mutated or not, and now and then a stream of several documents. */
export function hostileYaml(seeds: readonly string[]): fc.Arbitrary<string> {
  const base = fc.oneof(
    { weight: 4, arbitrary: mutated(fc.constantFrom(...seeds)) },
    { weight: 3, arbitrary: yamlDocument },
    { weight: 2, arbitrary: mutated(yamlDocument, 2) },
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: aliasBomb },
    { weight: 1, arbitrary: manyKeys },
    { weight: 1, arbitrary: hostileString },
  );
  return fc.oneof({ weight: 4, arbitrary: base }, { weight: 1, arbitrary: fc.array(base, { minLength: 2, maxLength: 4 }).map((docs) => docs.join("\n---\n")) });
}

/** Base64 that is wrong in the ways decoders differ on: padding, alphabet, length, whitespace. */
export function corruptBase64(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(valid.slice(0, -1)),
    fc.constant(valid.replace(/=+$/, "")),
    fc.constant(`${valid}=`),
    fc.constant(valid.replace(/\+/g, "-").replace(/\//g, "_")),
    fc.nat().map((at) => valid.slice(0, at % (valid.length + 1))),
    fc.tuple(fc.nat(), fc.constantFrom("!", " ", "\n", "=", "-", "\u00e9", "A")).map(([at, char]) => {
      const i = at % Math.max(1, valid.length);
      return valid.slice(0, i) + char + valid.slice(i + 1);
    }),
    mutated(fc.constant(valid), 2),
  );
}

/** The value with one bit of one byte flipped (a ciphertext, tag or MAC an attacker altered). */
export function flipBit(bytes: Uint8Array, position: number): Buffer {
  const copy = Buffer.from(bytes);
  if (copy.length === 0) return copy;
  const bit = position % (copy.length * 8);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}
