/**
 * Fuzzing yamlStream, the reader of every manifest from Git and of helm's and kustomize's
 * output. Properties (testenv/fuzz.ts): only RenderError, within a time and memory bound per
 * input; and no error about a Secret or a decrypted file ever quotes a value from it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { hostileYaml, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { RenderError } from "./errors.ts";
import { parseYamlStream } from "./yaml-stream.ts";

const SEEDS = [
  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n",
  "apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n  - &b {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n",
  "defaults: &d {a: 1}\nobj:\n  <<: *d\n  b: 012\n  c: on\n  d: 1e400\n  e: 99999999999999999999\n",
  '[{"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}}]\n',
];

test("yamlStream: only RenderError, in bounded time and memory", async (t) => {
  await fuzz(t, {
    name: "yamlStream (src/render/yaml-stream.ts)",
    arbitrary: hostileYaml(SEEDS),
    allowed: [RenderError],
    run: (text) => parseYamlStream(text, { file: "app/manifest.yaml" }).length,
    checkError: (error) => assert.equal((error as RenderError).file, "app/manifest.yaml", "the error names the file"),
  });
});

/** A value no message may ever show: it stands for a password. */
const CANARY = "c4n4ryS3cr3t";

/** Secret bodies, the value now and then written so that YAML reads it as something else (an alias, an anchor, a tag, a key...). */
const secretBody: fc.Arbitrary<string> = mutated(
  fc
    .tuple(
      fc.constantFrom(
        `metadata:\n  name: db\nstringData:\n  password: ${CANARY}\n  other: ${CANARY}-2\n`,
        `metadata: {name: db}\ndata: {password: ${CANARY}, token: "${CANARY}"}\n`,
        `data:\n  a: &x ${CANARY}\n  b: *x\n  c: |\n    ${CANARY}\n`,
      ),
      fc.constantFrom("", "*", "&", "!", "!!", "<<: ", "? ", "- ", "%", "@", "{", "[", '"\\', "'"),
    )
    .map(([body, indicator]) => body.replace(CANARY, indicator + CANARY)),
  3,
);

test("yamlStream: an error in a Secret or a decrypted file never quotes a value of it", async (t) => {
  await fuzz(t, {
    name: "yamlStream secrets never quoted (src/render/yaml-stream.ts)",
    arbitrary: fc.tuple(secretBody, fc.boolean()),
    allowed: [RenderError],
    run: ([body, decrypted]) =>
      decrypted ? parseYamlStream(body, { file: "app/secret.yaml", sensitive: true }) : parseYamlStream(`apiVersion: v1\nkind: Secret\n${body}`, { file: "app/secret.yaml" }),
    checkError: (error) => assert.ok(!error.message.includes(CANARY), `the error quotes a secret value:\n${error.message}`),
  });
});
