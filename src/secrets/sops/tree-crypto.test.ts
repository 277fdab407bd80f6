import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { isEncryptedValue } from "./cipher.ts";
import { compileRules, type CryptRules } from "./selectors.ts";
import { loadJson } from "./store-json.ts";
import { loadYaml } from "./store-yaml.ts";
import { decryptTree, encryptTree, type IvStash } from "./tree-crypto.ts";
import { getEntry, type Branches, type MapNode } from "./tree.ts";

const dataKey = Buffer.alloc(32, 3);
const defaults = { rules: compileRules({ unencryptedSuffix: "_unencrypted" }), macOnlyEncrypted: false, dataKey };

/** Decrypts as a file with `mac` would be, under the default rules unless others are given. */
function decrypt(branches: Branches, mac: string, options: { rules?: CryptRules; macOnlyEncrypted?: boolean; stash?: IvStash } = {}) {
  return decryptTree(branches, {
    rules: options.rules ?? { unencryptedSuffix: "_unencrypted" },
    macOnlyEncrypted: options.macOnlyEncrypted ?? false,
    dataKey,
    ...(options.stash ? { stash: options.stash } : {}),
    verifyMac: (computed) => {
      if (computed !== mac) throw new Error("MAC mismatch");
    },
  });
}

function sha512(...parts: string[]): string {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return hash.digest("hex").toUpperCase();
}

function scalarAt(branch: MapNode, ...path: string[]) {
  let node: MapNode = branch;
  for (const key of path.slice(0, -1)) node = getEntry(node, key)!.value as MapNode;
  const leaf = getEntry(node, path.at(-1)!)!.value;
  assert.equal(leaf.kind, "scalar");
  return leaf.scalar;
}

test("the MAC hashes values in document order, integer-like keys included", () => {
  const branches = [loadJson('{"b": "one", "10": "two", "a": {"2": "three", "1": "four"}}')];
  const { mac } = encryptTree(branches, defaults);
  assert.equal(mac, sha512("one", "two", "three", "four"));
  // What a plain JS object would iterate: integer-like keys first. That MAC would be wrong.
  const object = JSON.parse('{"b": "one", "10": "two", "a": {"2": "three", "1": "four"}}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(object), ["10", "b", "a"]);
  assert.notEqual(mac, sha512("two", "one", "four", "three"));
});

test("every type survives encryption and hashes the way sops does", () => {
  const branches = loadYaml(`int: 42
neg: -7
big: 9223372036854775807
float: 1.50
exp: 1e3
bool: true
no: false
str: "012"
multi: |
  line 1
  line 2
time: 2024-01-02T03:04:05Z
empty: ""
nothing: null
list: [a, 1, {x: y}]
`);
  const encrypted = encryptTree(branches, defaults);
  assert.equal(encrypted.mac, sha512("42", "-7", "9223372036854775807", "1.5", "1000", "True", "False", "012", "line 1\nline 2\n", "2024-01-02T03:04:05Z", "", "a", "1", "y"));
  const branch = encrypted.branches[0]!;
  for (const key of ["int", "float", "bool", "str", "multi", "time"]) {
    const scalar = scalarAt(branch, key);
    assert.ok(scalar.type === "str" && isEncryptedValue(scalar.value), key);
  }
  assert.match(JSON.stringify(scalarAt(branch, "int")), /type:int\]/);
  assert.match(JSON.stringify(scalarAt(branch, "bool")), /type:bool\]/);
  assert.match(JSON.stringify(scalarAt(branch, "float")), /type:float\]/);
  assert.match(JSON.stringify(scalarAt(branch, "time")), /type:time\]/);
  assert.deepEqual(scalarAt(branch, "empty"), { type: "str", value: "" }, "empty values stay empty");
  assert.deepEqual(scalarAt(branch, "nothing"), { type: "null" });
  const decrypted = decrypt(encrypted.branches, encrypted.mac);
  assert.deepEqual(decrypted, branches.map((b) => ({ ...b, items: b.items })));
});

test("encrypted_regex encrypts only selected values, but the MAC covers all of them", () => {
  const branches = loadYaml("apiVersion: v1\nkind: Secret\ndata:\n  password: aGk=\n");
  const rules = compileRules({ encryptedRegex: "^(data|stringData)$" });
  const { branches: encrypted, mac } = encryptTree(branches, { ...defaults, rules });
  assert.deepEqual(scalarAt(encrypted[0]!, "kind"), { type: "str", value: "Secret" });
  assert.ok(isEncryptedValue((scalarAt(encrypted[0]!, "data", "password") as { value: string }).value));
  assert.equal(mac, sha512("v1", "Secret", "aGk="));
});

test("mac_only_encrypted hashes a fixed prefix and the encrypted values only", () => {
  const branches = loadYaml("kind: Secret\ndata:\n  password: aGk=\n");
  const rules = compileRules({ encryptedRegex: "^data$" });
  const { mac } = encryptTree(branches, { ...defaults, rules, macOnlyEncrypted: true });
  const expected = createHash("sha512").update(createHash("sha256").update("sops").digest()).update("aGk=").digest("hex").toUpperCase();
  assert.equal(mac, expected);
});

test("a value moved to another path does not decrypt: the path is authenticated", () => {
  const { branches, mac } = encryptTree(loadYaml("a: x\nb: y\n"), defaults);
  const branch = branches[0]!;
  const [a, b] = branch.items.filter((item) => item.kind === "entry");
  assert.ok(a && b);
  [a.value, b.value] = [b.value, a.value];
  assert.throws(() => decrypt(branches, mac), (error: Error) => error.message.includes("the value at a does not authenticate") && !error.message.includes("x"));
});

test("re-encrypting unchanged values with the decryption stash reproduces their ciphertext", () => {
  const stash: IvStash = new Map();
  const first = encryptTree(loadYaml("a: one\nb: two\n"), defaults);
  const plain = decrypt(first.branches, first.mac, { stash });
  const edited = structuredClone(plain);
  (getEntry(edited[0]!, "b")!.value as { scalar: { value: string } }).scalar.value = "changed";
  const second = encryptTree(edited, { ...defaults, stash });
  assert.deepEqual(scalarAt(second.branches[0]!, "a"), scalarAt(first.branches[0]!, "a"));
  assert.notDeepEqual(scalarAt(second.branches[0]!, "b"), scalarAt(first.branches[0]!, "b"));
});

test("comments are encrypted with their map's path, and never hashed", () => {
  const branches = loadYaml("# top\ndata:\n  # inner\n  a: x\n");
  const encrypted = encryptTree(branches, defaults);
  assert.equal(encrypted.mac, sha512("x"));
  const comments = JSON.stringify(encrypted.branches).match(/ENC\[[^\]]*type:comment\]/g) ?? [];
  assert.equal(comments.length, 2);
  assert.deepEqual(decrypt(encrypted.branches, encrypted.mac), branches);
});
