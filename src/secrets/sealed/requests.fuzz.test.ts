/**
 * Fuzzing what the sealing routes and the Sealed Secrets controller do with a SealedSecret
 * from outside (requests.ts: parse, check, unseal, re-encrypt) with a real RSA key.
 * Properties (testenv/fuzz.ts): parsing throws only InvalidObjectError or the manifest
 * reader's Error; runSealingJob never throws, whatever the body (its outcome says what was
 * wrong); unsealing throws only UnsealError; a tampered value (bad base64, a flipped bit, a
 * truncated ciphertext, another name or scope) never unseals to anything but a value that was
 * sealed; and no message holds a secret value.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { corruptBase64, flipBit, hostileString, hostileYaml, mutated } from "../../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../../testenv/fuzz.ts";
import { generateSealingKey } from "./certificate.ts";
import { parseManifest } from "./manifest.ts";
import { InvalidObjectError, sealedSecretFromManifest } from "./objects.ts";
import { runSealingJob } from "./requests.ts";
import { CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION } from "./scope.ts";
import { sealSecret } from "./seal.ts";
import type { SealedSecret, Secret } from "./types.ts";
import { unsealSealedSecret, UnsealError } from "./unseal.ts";

const VALUES = { password: "hunter2-sesame", user: "admin-sesame" };

const setup = (async () => {
  const key = await generateSealingKey({ keySize: 2048 });
  const publicKey = createPublicKey(key.privateKey);
  const sealed = sealSecret({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, stringData: VALUES }, publicKey);
  return { privateKeys: [key.privateKey], publicKey, sealed };
})();

/** The sealed object altered where it matters: its values, its name and scope, its template. */
function tamperedObject(sealed: SealedSecret): fc.Arbitrary<SealedSecret> {
  const [first, second] = Object.values(sealed.spec.encryptedData) as [string, string];
  const value = fc.oneof(
    corruptBase64(first),
    fc.nat().map((bit) => flipBit(Buffer.from(first, "base64"), bit).toString("base64")),
    fc.nat().map((cut) => Buffer.from(first, "base64").subarray(0, cut % 600).toString("base64")),
    fc.constantFrom(first, second, "", "AA==", Buffer.alloc(2 + 256 + 16).toString("base64"), Buffer.from([0xff, 0xff]).toString("base64")),
  );
  const templateValue = fc.oneof(
    fc.constantFrom('{{ .password }}', '{{ index . "user" }}', '{{ index . "\\x41" }}', '{{ index . "\\u12" }}', '{{ index . "a\nb" }}', "{{ .missing }}", "{{ printf \"%s\" .password }}", "{{ .password }}".repeat(5000), "{{", "}}"),
    hostileString,
  );
  return fc
    .record({
      encryptedData: fc.dictionary(fc.constantFrom("password", "user", "extra", "__proto__", "a/b", ""), value, { maxKeys: 3 }),
      name: fc.constantFrom("db", "other", "", "db\u0000", "DB"),
      namespace: fc.constantFrom("shop", "kube-system", "", undefined),
      scope: fc.constantFrom("", NAMESPACE_WIDE_ANNOTATION, CLUSTER_WIDE_ANNOTATION),
      template: fc.option(fc.record({ data: fc.dictionary(fc.constantFrom("password", "derived", "user"), fc.option(templateValue, { nil: null }), { maxKeys: 2 }), type: fc.constantFrom("Opaque", "kubernetes.io/tls") }), { nil: undefined }),
    })
    .map(({ encryptedData, name, namespace, scope, template }) => ({
      ...sealed,
      metadata: { name, ...(namespace !== undefined ? { namespace } : {}), ...(scope ? { annotations: { [scope]: "true" } } : {}) },
      spec: { encryptedData, ...(template ? { template } : {}) },
    }));
}

function manifests(sealed: SealedSecret): fc.Arbitrary<string> {
  const objects = tamperedObject(sealed);
  const text = fc.tuple(objects, fc.boolean()).map(([object, json]) => (json ? JSON.stringify(object) : stringify(object)));
  return fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: mutated(text, 3) }, { weight: 1, arbitrary: hostileYaml([JSON.stringify(sealed)]) });
}

const leaks = (text: string) => Object.values(VALUES).some((value) => text.includes(value));

test("parseManifest + sealedSecretFromManifest: only InvalidObjectError or the reader's Error", async (t) => {
  const { sealed } = await setup;
  await fuzz(t, {
    name: "sealedSecretFromManifest (src/secrets/sealed/manifest.ts, objects.ts)",
    arbitrary: manifests(sealed),
    allowed: [InvalidObjectError, Error],
    run: (text) => sealedSecretFromManifest(parseManifest(text, "the request body"), "the request body"),
  });
});

test("runSealingJob verify/rotate: never throws, and its answer holds no secret", async (t) => {
  const { sealed, privateKeys, publicKey } = await setup;
  await fuzz(t, {
    name: "runSealingJob verify/rotate (src/secrets/sealed/requests.ts)",
    arbitrary: fc.tuple(manifests(sealed), fc.boolean()),
    allowed: [],
    runsScale: 0.5,
    run: ([manifest, rotate]) => runSealingJob(rotate ? { op: "rotate", manifest, privateKeys, publicKey } : { op: "verify", manifest, privateKeys }),
    check: (outcome) => {
      const answer = outcome as ReturnType<typeof runSealingJob>;
      assert.ok(["unsealed", "sealed-elsewhere", "refused"].includes(answer.kind));
      assert.ok(!leaks(JSON.stringify(answer)), `the answer holds a secret value: ${JSON.stringify(answer).slice(0, 300)}`);
    },
  });
});

test("unsealSealedSecret: only UnsealError; a tampered SealedSecret never unseals to a value that was not sealed", async (t) => {
  const { sealed, privateKeys } = await setup;
  const sealedValues = new Set(Object.values(VALUES).map((value) => Buffer.from(value).toString("base64")));
  await fuzz(t, {
    name: "unsealSealedSecret (src/secrets/sealed/unseal.ts)",
    arbitrary: tamperedObject(sealed),
    allowed: [UnsealError],
    runsScale: 0.5,
    run: (object) => unsealSealedSecret(object, privateKeys),
    check: (secret, object) => {
      const data = (secret as Secret).data ?? {};
      for (const [key, value] of Object.entries(data)) {
        // Template data may combine sealed values; a key of encryptedData holds one of them as it was sealed.
        if (key in object.spec.encryptedData && !(key in (object.spec.template?.data ?? {}))) assert.ok(sealedValues.has(value), `encryptedData.${key} unsealed to a value that was never sealed`);
      }
    },
    checkError: (error) => assert.ok(!leaks(error.message), `the error holds a secret value: ${error.message}`),
  });
});
