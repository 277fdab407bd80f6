import assert from "node:assert/strict";
import { test } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { decryptText, encryptContent } from "./document.ts";
import { SopsError } from "./errors.ts";
import { loadYaml } from "./store-yaml.ts";

/** Each level aliases the one before ten times: 10^levels values from a few hundred bytes. */
function nestedAliases(levels: number): string {
  const lines = ["l0: &l0 [v, v, v, v, v, v, v, v, v, v]"];
  for (let level = 1; level < levels; level++) lines.push(`l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(", ")}]`);
  return `${lines.join("\n")}\n`;
}

/** Runs `body`, returning its error, how long it took and how much the heap grew meanwhile. */
async function measure(body: () => Promise<unknown>): Promise<{ error: unknown; ms: number; heapGrowth: number }> {
  const heap = process.memoryUsage().heapUsed;
  const started = performance.now();
  let peak = heap;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
  try {
    await body();
    return { error: undefined, ms: performance.now() - started, heapGrowth: peak - heap };
  } catch (error) {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { error, ms: performance.now() - started, heapGrowth: peak - heap };
  } finally {
    clearInterval(sampler);
  }
}

test("attack 6: a SOPS YAML alias bomb fails fast", async () => {
  // A real SOPS file (metadata, MAC, an age recipient) whose data is nine levels of nested
  // aliases: a billion values, which took 57 s and 1.3 GB to load before.
  const identity = await generateIdentity();
  const encrypted = (await encryptContent("password: hunter2\n", { format: "yaml", recipients: [await identityToRecipient(identity)], rules: {}, fileName: "secret.yaml" })).toString("utf8");
  const bomb = `${nestedAliases(9)}${encrypted.slice(encrypted.indexOf("sops:"))}`;
  const result = await measure(() => decryptText(bomb, { format: "yaml", identities: [identity], fileName: "apps/secret.enc.yaml" }));
  assert.ok(result.error instanceof SopsError, String(result.error));
  assert.equal(result.error.code, "invalid-file");
  assert.match(result.error.message, /^apps\/secret\.enc\.yaml: .*grows beyond .* once its aliases are expanded \(fjord's limit\) \(line \d+\)/);
  assert.ok(result.ms < 1000, `refused in ${result.ms.toFixed(0)} ms`);
  assert.ok(result.heapGrowth < 64 * 1024 * 1024, `heap grew by ${(result.heapGrowth / 2 ** 20).toFixed(0)} MiB`);
});

test("a few nested aliases still load as sops reads them, each alias expanded", () => {
  const [branch] = loadYaml(nestedAliases(3));
  const l2 = branch?.items.find((item) => item.kind === "entry" && item.key === "l2");
  assert.ok(l2?.kind === "entry" && l2.value.kind === "seq");
  assert.equal(l2.value.items.length, 10);
});

test("an alias inside its own anchor, deep nesting and too many aliases are refused with the line", () => {
  assert.throws(() => loadYaml("a: &a\n    b: *a\n"), /alias \*a refers to a node that contains it \(line 2\)/);
  assert.throws(() => loadYaml(`a: ${"[".repeat(30_000)}${"]".repeat(30_000)}\n`), /nested deeper than 200 levels/);
  assert.throws(() => loadYaml(`a: &a 1\nb: [${Array(1001).fill("*a").join(", ")}]\n`), /more than 1,000 aliases/);
});

test("errors in a SOPS YAML file never quote it", () => {
  for (const text of ['password: "hunter2\\q"\n', "password: !!int hunter2\n", 'password: "hunter2\n']) {
    assert.throws(
      () => loadYaml(text),
      (error: Error) => !error.message.includes("hunter2") && /line \d+/.test(error.message),
    );
  }
});
