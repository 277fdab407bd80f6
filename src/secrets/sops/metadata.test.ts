import assert from "node:assert/strict";
import { test } from "node:test";
import { attachMetadata, extractMetadata, metadataToTree, type SopsMetadata } from "./metadata.ts";
import { emitDotenv, loadDotenv } from "./store-dotenv.ts";
import type { MapEntry } from "./tree.ts";

const metadata: SopsMetadata = {
  age: [{ recipient: "age1example", enc: "-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n" }],
  keyGroups: [],
  otherKeyTypes: [],
  extra: [],
  lastModified: "2024-01-01T00:00:00Z",
  mac: "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
  version: "3.13.3",
  rules: { encryptedRegex: "^data$" },
  macOnlyEncrypted: true,
};

test("metadata is written with keys sorted by name, as sops does", () => {
  const keys = metadataToTree(metadata).items.map((item) => (item as MapEntry).key);
  assert.deepEqual(keys, ["age", "encrypted_regex", "lastmodified", "mac", "mac_only_encrypted", "version"]);
});

test("dotenv files carry the metadata flattened, and it reads back the same", () => {
  const branches = attachMetadata([loadDotenv("A=1\n")], metadata, "flat");
  const text = emitDotenv(branches[0]!);
  assert.match(text, /^A=1\nsops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nabc\\n-----END AGE ENCRYPTED FILE-----\\n\nsops_age__list_0__map_recipient=age1example\nsops_encrypted_regex=\^data\$\nsops_lastmodified=/m);
  assert.match(text, /\nsops_mac_only_encrypted=true\n/);
  const extracted = extractMetadata([loadDotenv(text)], "flat");
  assert.ok(extracted);
  assert.deepEqual(extracted.metadata, metadata);
  assert.deepEqual(extracted.branches[0]!.items.map((item) => (item as MapEntry).key), ["A"]);
});

test("a file without metadata has none; broken metadata is an error", () => {
  assert.equal(extractMetadata([loadDotenv("A=1\n")], "flat"), undefined);
  assert.throws(() => extractMetadata([loadDotenv("sops_mac=x\n")], "flat"), /lastmodified is missing/);
  assert.throws(
    () => extractMetadata([loadDotenv("sops_lastmodified=2024-01-01T00:00:00Z\nsops_mac=x\nsops_encrypted_regex=a\nsops_unencrypted_suffix=b\nsops_age__list_0__map_recipient=r\nsops_age__list_0__map_enc=e\n")], "flat"),
    /only one of/,
  );
});
