import assert from "node:assert/strict";
import { test } from "node:test";
import { RenderError } from "./errors.ts";
import { parseYamlStream, type StreamOrigin } from "./yaml-stream.ts";

const origin: StreamOrigin = { file: "apps/x.yaml" };

test("empty, comment-only and null documents are left out; lines point at the first key", () => {
  const docs = parseYamlStream("# header\n---\na: 1\n---\n# nothing\n---\n---\n~\n---\n\nb: 2\n", origin);
  assert.deepEqual(
    docs.map((doc) => [doc.value, doc.line]),
    [
      [{ a: 1 }, 3],
      [{ b: 2 }, 11],
    ],
  );
  assert.deepEqual(parseYamlStream("", origin), []);
});

test("YAML 1.1 scalars as kubectl reads them, including keys", () => {
  const [doc] = parseYamlStream("on: yes\nv: 012\nn2: 1e3\nt: 2024-01-01\ns: '0123'\nempty:\nflag: Off\n", origin);
  assert.deepEqual(doc?.value, { true: true, v: 10, n2: 1000, t: "2024-01-01", s: "0123", empty: null, flag: false });
});

test("merge keys, aliases, explicit tags", () => {
  const text = "base: &b {x: 1, y: 2}\nmerged:\n  <<: *b\n  x: 3\ncopy: *b\ns: !!str 012\ni: !!int '12'\nbin: !!binary aGVsbG8=\nts: !!timestamp 2024-01-01\n";
  const [doc] = parseYamlStream(text, origin);
  assert.deepEqual(doc?.value, {
    base: { x: 1, true: 2 },
    merged: { x: 3, true: 2 },
    copy: { x: 1, true: 2 },
    s: "012",
    i: 12,
    bin: "hello",
    ts: "2024-01-01",
  });
});

test("JSON documents parse too", () => {
  const [doc] = parseYamlStream('{\n\t"apiVersion": "v1",\n\t"kind": "ConfigMap",\n\t"data": {"n": "1"}\n}\n', origin);
  assert.deepEqual(doc?.value, { apiVersion: "v1", kind: "ConfigMap", data: { n: "1" } });
});

test("the line of every item of a list is kept", () => {
  const [doc] = parseYamlStream("kind: List\nitems:\n  - a: 1\n  - b: 2\n\n  - c: 3\n", origin);
  assert.deepEqual(doc?.itemLines, [3, 4, 6]);
});

function failure(text: string, from: StreamOrigin = origin): RenderError {
  try {
    parseYamlStream(text, from);
  } catch (error) {
    assert.ok(error instanceof RenderError);
    return error;
  }
  assert.fail("expected a RenderError");
}

test("malformed YAML names file, line and column with the parser's reason", () => {
  const error = failure("a: 1\nb: [1, 2\nc: 3\n");
  assert.equal(error.code, "yaml-syntax");
  assert.equal(error.file, "apps/x.yaml");
  assert.equal(error.line, 3);
  assert.equal(error.column, 1);
  assert.match(error.message, /^apps\/x\.yaml:3:1: malformed YAML: .*sequence/);
});

test("keys that become the same JSON key are an error, not a silent overwrite", () => {
  const error = failure("metadata:\n  labels:\n    on: a\n    'true': b\n");
  assert.equal(error.code, "yaml-syntax");
  assert.equal(error.line, 4);
  assert.match(error.message, /unique/);
});

test("numbers JSON cannot carry exactly are refused with their position", () => {
  const big = failure("kind: ConfigMap\nspec:\n  id: 9007199254740993\n");
  assert.equal(big.code, "yaml-value");
  assert.equal(big.line, 3);
  assert.equal(big.column, 7);
  assert.match(big.message, /quote it/);
  assert.equal(failure("x: .inf\n").code, "yaml-value");
});

test("errors in a tool's output say so instead of pointing at a line of the file", () => {
  const error = failure("a: [\n", { file: "chart/templates/x.yaml", renderedBy: "helm template" });
  assert.equal(error.file, "chart/templates/x.yaml");
  assert.equal(error.line, undefined);
  assert.match(error.message, /in the output of helm template, at line \d+:\d+ of that output/);
});

/** Each level aliases the one before ten times: 10^levels leaves from a few hundred bytes. */
function aliasBomb(levels: number): string {
  const lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level < levels; level++) lines.push(`l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(", ")}]`);
  return `${lines.join("\n")}\n`;
}

test("alias bombs are refused without being expanded, naming where they grow too large", () => {
  const started = performance.now();
  const error = failure(aliasBomb(9));
  assert.ok(performance.now() - started < 1000, "refused at once");
  assert.equal(error.code, "limit-exceeded");
  assert.equal(error.file, "apps/x.yaml");
  assert.match(error.message, /grows beyond .* once its aliases are expanded \(fjord's limit\)/);
  assert.match(error.message, /fix: /);
});

test("aliases that expand moderately are read as kubectl reads them", () => {
  const [doc] = parseYamlStream(aliasBomb(3), origin);
  assert.equal(((doc?.value as Record<string, string[][]>).l2 ?? []).flat().length, 100);
  assert.ok(doc!.expandedNodes > 100, "the expansion is counted");
});

test("an alias inside the node it names is refused, not turned into a cycle", () => {
  const error = failure("kind: ConfigMap\ndata: &d\n  self: *d\n");
  assert.equal(error.code, "limit-exceeded");
  assert.equal(error.line, 3);
  assert.match(error.message, /alias \*d refers to a node that contains it/);
});

test("more aliases than the limit are refused", () => {
  const text = `a: &a 1\nb: [${Array(1001).fill("*a").join(", ")}]\n`;
  assert.match(failure(text).message, /more than 1,000 aliases in one YAML document/);
});

test("nesting deeper than the limit is refused before it is built (no stack overflow, no crash)", () => {
  for (const text of [`a: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`, `a: ${"{b: ".repeat(201)}1${"}".repeat(201)}\n`]) {
    const error = failure(text);
    assert.equal(error.code, "limit-exceeded");
    assert.match(error.message, /nested deeper than 200 levels/);
  }
  const [doc] = parseYamlStream(`a: ${"[".repeat(199)}${"]".repeat(199)}\n`, origin);
  assert.ok(doc, "200 levels (the map and 199 lists) are fine");
});

test("a document with more tokens than the limit is refused before its syntax tree is built", () => {
  const started = process.memoryUsage().heapUsed;
  for (const text of [`a: [${"1,".repeat(300_000)}1]\n`, `a: [${",".repeat(300_000)}]\n`]) {
    const error = failure(text);
    assert.equal(error.code, "limit-exceeded");
    assert.match(error.message, /more than 250,000 YAML tokens/);
  }
  assert.ok(process.memoryUsage().heapUsed - started < 200 * 1024 * 1024);
});

test("a document larger than the limit is refused before it is parsed", () => {
  const text = `kind: ConfigMap\ndata:\n  big: "${"x".repeat(5 * 1024 * 1024)}"\n`;
  const error = failure(text);
  assert.equal(error.code, "limit-exceeded");
  assert.match(error.message, /single YAML document is larger than 4 MiB/);
  // The same bytes spread over documents are fine.
  const docs = parseYamlStream(Array.from({ length: 6 }, () => `v: "${"x".repeat(1024 * 1024)}"\n`).join("---\n"), origin);
  assert.equal(docs.length, 6);
});

test("duplicate keys are found in linear time", () => {
  const keys = Array.from({ length: 60_000 }, (_, i) => `  k${i}: v`).join("\n");
  const started = performance.now();
  const [doc] = parseYamlStream(`data:\n${keys}\n`, origin);
  assert.equal(Object.keys((doc?.value as { data: object }).data).length, 60_000);
  assert.ok(performance.now() - started < 20_000, "the yaml package's own check takes minutes here");
  assert.equal(failure(`data:\n${keys}\n  k5: again\n`).line, 60_002);
});

test("attack 12: a YAML error in a Secret never quotes its content", () => {
  const secretTexts = [
    // an unterminated quote
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "hunter2-sesame\n  user: admin\n',
    // a value kubectl would read as a number JSON cannot hold
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: 9007199254740993\n",
    // bad indentation, the error before `kind:`
    "apiVersion: v1\nstringData:\n  password: hunter2-sesame\n    extra: 1\nkind: Secret\n",
    // an invalid escape
    'apiVersion: v1\nkind: "Secret"\nstringData: {password: "hunter2-sesame\\q"}\n',
    // a kind of any case, in JSON
    '{"apiVersion": "v1", "kind": "secret", "stringData": {"password": "hunter2-sesame" "x"}}\n',
  ];
  for (const text of secretTexts) {
    const error = failure(text);
    assert.match(error.message, /^apps\/x\.yaml:\d+:\d+: /, "still names file, line and column");
    assert.doesNotMatch(error.message, /hunter2|sesame|9007199254740993/, error.message);
  }
});

test("attack 12: documents whose kind is unknown, SOPS files and decrypted files are never quoted", () => {
  const noKind = failure('password: "hunter2-sesame\n');
  assert.doesNotMatch(noKind.message, /hunter2/);
  const sops = failure("kind: ConfigMap\ndata:\n  password: ENC[AES256_GCM,data:abc] x: y\nsops:\n  mac: x\n");
  assert.doesNotMatch(sops.message, /ENC\[/);
  const decrypted = failure("kind: ConfigMap\ndata:\n  password: hunter2 x: y\n", { file: "apps/x.yaml", sensitive: true });
  assert.doesNotMatch(decrypted.message, /hunter2/);
  const inOutput = failure("kind: Secret\ndata:\n  password: hunter2 x: y\n", { file: "chart/templates/s.yaml", renderedBy: "helm template" });
  assert.doesNotMatch(inOutput.message, /hunter2/);
});

test("an error in an ordinary object still quotes its line", () => {
  const error = failure("apiVersion: v1\nkind: ConfigMap\ndata:\n  colour: blue x: y\n");
  assert.match(error.message, /\|\s+colour: blue x: y/);
});

test("fuzz-found: a Secret value YAML reads as an alias (`password: *hunter2`) is not quoted in the error", () => {
  // Counterexample of yaml-stream.fuzz.test.ts: the yaml package's message names the missing
  // anchor, which here is the password.
  const secret = failure("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: *c4n4ryS3cr3t\n  other: c4n4ryS3cr3t-2\n");
  assert.doesNotMatch(secret.message, /c4n4ry/, secret.message);
  assert.match(secret.message, /^apps\/x\.yaml:\d+: malformed YAML: an alias \(\*name\) refers to no anchor/);
  const decrypted = failure("data:\n  token: *hunter2\n", { file: "apps/x.yaml", sensitive: true });
  assert.doesNotMatch(decrypted.message, /hunter2/, decrypted.message);
  // An ordinary object still says which alias.
  assert.match(failure("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: *nowhere\n").message, /nowhere/);
});

test("fuzz-found: the yaml package's warnings, which quote the input, never reach the process's stderr", (t) => {
  const warnings: string[] = [];
  const listener = (warning: Error) => warnings.push(warning.message);
  process.on("warning", listener);
  t.after(() => process.off("warning", listener));
  // A collection used as a key makes the package warn, naming the key, while converting.
  parseYamlStream("apiVersion: v1\nkind: Secret\nstringData:\n  ? [c4n4ryS3cr3t]\n  : x\n", { file: "apps/x.yaml" });
  return new Promise<void>((resolve) => setImmediate(() => {
    assert.deepEqual(warnings, []);
    resolve();
  }));
});
