/**
 * Fuzzing the bounded YAML and JSON readers every parse of outside data goes through
 * (yaml.ts, json.ts). Property (testenv/fuzz.ts): only their documented errors, within a time
 * and memory bound per input, whatever the text.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { deepNesting, hostileString, hostileYaml, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { JsonInputError, parseBoundedJson } from "./json.ts";
import { MAX_NESTING_DEPTH } from "./limits.ts";
import { parseYamlDocuments, YamlLimitError } from "./yaml.ts";

const SEEDS = [
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels: {app: web}\ndata:\n  key: value\n",
  "base: &base {cpu: 1, memory: 2Gi}\nsmall:\n  <<: *base\n  cpu: 2\nlist: [*base, *base]\n",
  "%YAML 1.1\n---\n- !!str 012\n- !!binary aGVsbG8=\n- on\n- 0x1F\n- 1e309\n...\n---\nkey: |\n  text\n  more\n",
  '{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Secret", "data": {"a": "YQ=="}}]}\n',
];

test("parseYamlDocuments: only YamlLimitError, in bounded time and memory", async (t) => {
  await fuzz(t, {
    name: "parseYamlDocuments (src/input/yaml.ts)",
    arbitrary: hostileYaml(SEEDS),
    allowed: [YamlLimitError],
    run: (text) => {
      // Syntax errors are in each document's `errors`; converting (and what it throws) is the callers' part, fuzzed with them.
      let nodes = 0;
      for (const { expandedNodes } of parseYamlDocuments(text, { merge: true })) nodes += expandedNodes;
      return nodes;
    },
  });
});

const jsonText: fc.Arbitrary<string> = fc.oneof(
  fc.json({ depthSize: "medium" }),
  mutated(fc.json(), 3),
  deepNesting,
  hostileString,
  fc.integer({ min: 190, max: 210 }).map((depth) => `${'{"a":['.repeat(depth)}"\\"[{"${"]}".repeat(depth)}`),
);

test("parseBoundedJson: only JsonInputError, and nothing nested deeper than the limit gets through", async (t) => {
  await fuzz(t, {
    name: "parseBoundedJson (src/input/json.ts)",
    arbitrary: jsonText,
    allowed: [JsonInputError],
    run: (text) => parseBoundedJson(text, "fuzz input"),
    check: (value) => assert.ok(depthOf(value) <= MAX_NESTING_DEPTH, "a value nested deeper than the limit was returned"),
    checkError: (error, text) => {
      // V8's own message quotes the text; fjord's never does.
      if (text.length >= 8) assert.ok(!error.message.includes(text), "the error quotes the input");
    },
  });
});

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}
