import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { ageIdentitiesFromSecretData, loadAgeIdentitiesFromEnvironment, parseAgeIdentities, unwrapDataKey, userConfigDir, wrapDataKey } from "./age-keys.ts";
import { SopsError } from "./errors.ts";
import type { SopsMetadata } from "./metadata.ts";

// The identity and wrapped value from sops's own tests (age/keysource_test.go).
const SOPS_TEST_IDENTITY = "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";
const SOPS_TEST_RECIPIENT = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";

function metadataFor(age: SopsMetadata["age"]): SopsMetadata {
  return { age, keyGroups: [], otherKeyTypes: [], extra: [], lastModified: "2024-01-01T00:00:00Z", mac: "", version: "3.13.3", rules: {}, macOnlyEncrypted: false };
}

test("key files: one identity per line, comments and blank lines skipped; the error never repeats a line", () => {
  const identities = parseAgeIdentities(`# created: 2024-01-01\n# public key: ${SOPS_TEST_RECIPIENT}\n\n${SOPS_TEST_IDENTITY}\n`, "keys.txt");
  assert.deepEqual(identities, [SOPS_TEST_IDENTITY]);
  assert.throws(
    () => parseAgeIdentities(`${SOPS_TEST_IDENTITY}\nnot-a-key-but-secret\n`, "keys.txt"),
    (error: Error) => error instanceof SopsError && /keys\.txt: line 2 is not an age identity/.test(error.message) && !error.message.includes("not-a-key-but-secret"),
  );
  assert.deepEqual(parseAgeIdentities(`${SOPS_TEST_IDENTITY} ${SOPS_TEST_IDENTITY}`, "SOPS_AGE_KEY", { severalPerLine: true }).length, 2);
});

test("a Secret's *.agekey entries, like Flux", () => {
  const data = {
    "identity.agekey": Buffer.from(`# a comment\n${SOPS_TEST_IDENTITY}\n`).toString("base64"),
    "other.txt": Buffer.from("ignored").toString("base64"),
  };
  assert.deepEqual(ageIdentitiesFromSecretData(data), [SOPS_TEST_IDENTITY]);
  assert.throws(() => ageIdentitiesFromSecretData({ "bad.agekey": "!!!" }), /Secret key bad\.agekey: is not base64/);
});

test("the environment: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and sops's default key file together", async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "fjord-age-env-"));
  try {
    const second = await generateIdentity();
    const third = await generateIdentity();
    const keyFile = path.join(home, "keys.txt");
    await writeFile(keyFile, `${second}\n`);
    await mkdir(path.join(home, ".config", "sops", "age"), { recursive: true });
    await writeFile(path.join(home, ".config", "sops", "age", "keys.txt"), `${third}\n`);
    const loaded = await loadAgeIdentitiesFromEnvironment({ HOME: home, SOPS_AGE_KEY: SOPS_TEST_IDENTITY, SOPS_AGE_KEY_FILE: keyFile }, "linux");
    assert.deepEqual(loaded.identities, [SOPS_TEST_IDENTITY, second, third]);
    assert.equal(loaded.sources.length, 3);
    assert.deepEqual((await loadAgeIdentitiesFromEnvironment({ HOME: path.join(home, "nowhere") }, "linux")).identities, []);
    await assert.rejects(loadAgeIdentitiesFromEnvironment({ HOME: home, SOPS_AGE_KEY_FILE: path.join(home, "missing") }, "linux"), /cannot be read \(ENOENT\)/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("the user config directory is Go's os.UserConfigDir", () => {
  assert.equal(userConfigDir({ HOME: "/home/u" }, "linux"), "/home/u/.config");
  assert.equal(userConfigDir({ HOME: "/home/u", XDG_CONFIG_HOME: "/xdg" }, "linux"), "/xdg");
  assert.equal(userConfigDir({ HOME: "/Users/u" }, "darwin"), "/Users/u/Library/Application Support");
});

test("the data key wraps for every recipient and unwraps with any one identity", async () => {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const dataKey = Buffer.alloc(32, 9);
  const stanzas = await wrapDataKey(dataKey, [SOPS_TEST_RECIPIENT, recipient]);
  assert.match(stanzas[0]!.enc, /^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+-----END AGE ENCRYPTED FILE-----\n$/);
  assert.deepEqual(await unwrapDataKey(metadataFor(stanzas), [identity]), dataKey);
  assert.deepEqual(await unwrapDataKey(metadataFor(stanzas), [SOPS_TEST_IDENTITY]), dataKey);
});

test("files with only other key types, or Shamir groups, are refused clearly", async () => {
  const other: SopsMetadata = { ...metadataFor([]), otherKeyTypes: ["pgp"] };
  await assert.rejects(unwrapDataKey(other, [SOPS_TEST_IDENTITY]), /no age keys, only pgp keys/);
  const shamir: SopsMetadata = { ...metadataFor([]), keyGroups: [[], []] };
  await assert.rejects(unwrapDataKey(shamir, [SOPS_TEST_IDENTITY]), /Shamir/);
});
