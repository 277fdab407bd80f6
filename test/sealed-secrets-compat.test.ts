/**
 * Byte-level compatibility with the real kubeseal, both ways: what kubeseal seals with fjord's
 * certificate fjord unseals (every scope, YAML and JSON), and what `fjord seal` writes kubeseal
 * recovers with fjord's private key (as a PEM file and as fjord's key Secret).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { pino } from "pino";
import { KubeClient } from "../src/kube/client.ts";
import { startSealedSecrets } from "../src/controller/sealed-secrets/index.ts";
import {
  generateSealingKey,
  hybridDecrypt,
  parsePrivateKey,
  parseManifest,
  SCOPES,
  sealedSecretFromManifest,
  unsealSealedSecret,
  UnsealError,
  encryptionLabel,
  type SealedSecret,
  type Secret,
} from "../src/secrets/sealed/index.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { createControllerMetrics } from "../src/controller/metrics.ts";
import { createControllerServer } from "../src/server/index.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, useCluster } from "./support/cluster.ts";
import { serveThroughServiceProxy } from "./support/service-proxy.ts";

let kubeseal: string;
let dir: string;
let certFile: string;
let keyFile: string;
let keySecretFile: string;
let key: Awaited<ReturnType<typeof generateSealingKey>>;
const printed: string[] = [];
const plaintexts: string[] = [];

before(async () => {
  ({ kubeseal } = await ensureBinaries(["kubeseal"], () => {}));
  dir = await mkdtemp(path.join(os.tmpdir(), "fjord-kubeseal-"));
  // A full-size key, as the controller makes them.
  key = await generateSealingKey();
  certFile = path.join(dir, "cert.pem");
  keyFile = path.join(dir, "key.pem");
  keySecretFile = path.join(dir, "key-secret.yaml");
  await writeFile(certFile, key.certificatePem);
  await writeFile(keyFile, key.privateKeyPem);
  await writeFile(
    keySecretFile,
    stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sealed-secrets-keyabcde", namespace: "fjord-system", labels: { "sealedsecrets.bitnami.com/sealed-secrets-key": "active" } },
      type: "kubernetes.io/tls",
      data: { "tls.key": Buffer.from(key.privateKeyPem).toString("base64"), "tls.crt": Buffer.from(key.certificatePem).toString("base64") },
    }),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

function run(command: string, args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, KUBECONFIG: path.join(os.tmpdir(), "fjord-no-such-kubeconfig"), ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

function plaintext(label: string): string {
  const value = `${label}-${randomBytes(6).toString("hex")}`;
  plaintexts.push(value);
  return value;
}

/** A Secret with a binary value, a multi-line value, data and stringData. */
function testSecret(name: string, namespace: string) {
  const values = { password: plaintext("pw"), "tls.crt": `-----BEGIN X-----\n${plaintext("line")}\n-----END X-----\n` };
  const binary = Buffer.concat([Buffer.from([0, 255, 1, 254]), randomBytes(16)]);
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels: { app: "shop" }, annotations: { note: "kept" } },
    type: "Opaque",
    data: { binary: binary.toString("base64") },
    stringData: values,
  };
  const expected = { binary: binary.toString("base64"), password: Buffer.from(values.password).toString("base64"), "tls.crt": Buffer.from(values["tls.crt"]).toString("base64") };
  return { secret, expected };
}

const decode = (text: string, source: string) => sealedSecretFromManifest(parseManifest(text, source), source);

for (const scope of SCOPES) {
  for (const format of ["yaml", "json"] as const) {
    test(`kubeseal --scope ${scope} --format ${format} with fjord's certificate: fjord unseals it`, async () => {
      const { secret, expected } = testSecret("db", "shop");
      const input = format === "json" ? JSON.stringify(secret) : stringify(secret);
      const sealedRun = await run(kubeseal, ["--cert", certFile, "--scope", scope, "--format", format], input);
      assert.equal(sealedRun.code, 0, sealedRun.stderr);
      const sealed = decode(sealedRun.stdout, "kubeseal output");
      const unsealed = unsealSealedSecret(sealed, [key.privateKey]);
      assert.deepEqual(unsealed.data, expected);
      assert.deepEqual(unsealed.metadata.labels, { app: "shop" });
      assert.equal(unsealed.metadata.annotations?.note, "kept");
      // What each scope allows, as fjord enforces it on kubeseal's output.
      const renamed: SealedSecret = { ...sealed, metadata: { ...sealed.metadata, name: "db-copy" } };
      const moved: SealedSecret = { ...sealed, metadata: { ...sealed.metadata, namespace: "other" } };
      const unseals = (candidate: SealedSecret) => {
        try {
          unsealSealedSecret(candidate, [key.privateKey]);
          return true;
        } catch (error) {
          if (error instanceof UnsealError) return false;
          throw error;
        }
      };
      assert.equal(unseals(renamed), scope !== "strict");
      assert.equal(unseals(moved), scope === "cluster-wide");
    });
  }
}

test("kubeseal honours the scope annotation on the Secret and so does fjord", async () => {
  const { secret, expected } = testSecret("anno", "shop");
  secret.metadata.annotations = { "sealedsecrets.bitnami.com/namespace-wide": "true" };
  const sealedRun = await run(kubeseal, ["--cert", certFile, "--format", "yaml"], stringify(secret));
  assert.equal(sealedRun.code, 0, sealedRun.stderr);
  const sealed = decode(sealedRun.stdout, "kubeseal output");
  assert.equal(sealed.metadata.annotations?.["sealedsecrets.bitnami.com/namespace-wide"], "true");
  assert.deepEqual(unsealSealedSecret({ ...sealed, metadata: { ...sealed.metadata, name: "other-name" } }, [key.privateKey]).data, expected);
});

test("kubeseal --raw values decrypt with fjord's hybrid scheme and the scope's label", async () => {
  const value = plaintext("raw");
  const valueFile = path.join(dir, "raw-value");
  await writeFile(valueFile, value);
  for (const scope of SCOPES) {
    const raw = await run(kubeseal, ["--cert", certFile, "--raw", "--scope", scope, "--namespace", "shop", "--name", "db", `--from-file=${valueFile}`], "");
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(hybridDecrypt(key.privateKey, Buffer.from(raw.stdout.trim(), "base64"), encryptionLabel("shop", "db", scope)).toString(), value);
  }
});

test("a strict SealedSecret from kubeseal moved to another namespace fails in fjord with a message that says why", async () => {
  const { secret } = testSecret("db", "shop");
  const sealedRun = await run(kubeseal, ["--cert", certFile, "--format", "json"], JSON.stringify(secret));
  const sealed = decode(sealedRun.stdout, "kubeseal output");
  assert.throws(
    () => unsealSealedSecret({ ...sealed, metadata: { ...sealed.metadata, namespace: "staging" } }, [key.privateKey]),
    /no private key can decrypt encryptedData "binary", "password", "tls.crt" \(tried 1 key\)\. This SealedSecret is strict \(only as "db" in namespace "staging"\)/,
  );
});

for (const scope of SCOPES) {
  for (const [inputFormat, outputFormat] of [["yaml", "json"], ["json", "yaml"]] as const) {
    test(`fjord seal --scope ${scope} (${inputFormat} in, ${outputFormat} out): kubeseal --recovery-unseal recovers the Secret`, async () => {
      const { secret, expected } = testSecret("api", "payments");
      const secretFile = path.join(dir, `secret-${scope}.${inputFormat}`);
      await writeFile(secretFile, inputFormat === "json" ? JSON.stringify(secret) : stringify(secret));
      const sealedRun = await runFjord(["seal", secretFile, "--cert", certFile, "--scope", scope, "-o", outputFormat]);
      printed.push(sealedRun.stdout, sealedRun.stderr);
      assert.equal(sealedRun.code, 0, sealedRun.stderr);
      const sealedFile = path.join(dir, `sealed-${scope}-${inputFormat}.${outputFormat}`);
      await writeFile(sealedFile, sealedRun.stdout);

      for (const privateKeyFile of [keyFile, keySecretFile]) {
        const recovered = await run(kubeseal, ["--recovery-unseal", "--recovery-private-key", privateKeyFile, "--format", "json"], sealedRun.stdout);
        assert.equal(recovered.code, 0, recovered.stderr);
        const unsealed = JSON.parse(recovered.stdout) as Secret;
        assert.deepEqual(unsealed.data, expected);
        assert.equal(unsealed.metadata.name, "api");
        assert.equal(unsealed.metadata.namespace, "payments");
        assert.deepEqual(unsealed.metadata.labels, { app: "shop" });
      }
    });
  }
}

test("fjord seal reads stdin and writes a strict SealedSecret that kubeseal refuses to recover under another name", async () => {
  const { secret } = testSecret("strict", "payments");
  const input = stringify(secret);
  // runFjord gives the child no stdin, so this runs the CLI the same way with the Secret piped in.
  const viaStdin = await run(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "..", "src/cli/main.ts"), "seal", "--cert", certFile, "-o", "yaml"], input);
  printed.push(viaStdin.stdout, viaStdin.stderr);
  assert.equal(viaStdin.code, 0, viaStdin.stderr);
  const sealed = decode(viaStdin.stdout, "fjord seal output");
  const renamed = stringify({ ...sealed, metadata: { ...sealed.metadata, name: "renamed" } });
  const recovered = await run(kubeseal, ["--recovery-unseal", "--recovery-private-key", keyFile], renamed);
  assert.notEqual(recovered.code, 0, "kubeseal must refuse a strict SealedSecret under another name");
  assert.throws(() => unsealSealedSecret(decode(renamed, "renamed"), [key.privateKey]), /strict \(only as "renamed" in namespace "payments"\)/);
});

test("fjord seal refuses an expired certificate and bad input without printing values", async () => {
  const expired = await generateSealingKey({ keySize: 1024, now: new Date(Date.now() - 2 * 86_400_000), validForMs: 86_400_000 });
  const expiredFile = path.join(dir, "expired.pem");
  await writeFile(expiredFile, expired.certificatePem);
  const secretFile = path.join(dir, "plain.yaml");
  const value = plaintext("never-printed");
  await writeFile(secretFile, `apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\nstringData:\n  v: ${value}\n`);
  const refused = await runFjord(["seal", secretFile, "--cert", expiredFile]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the certificate expired on/);
  const broken = path.join(dir, "broken.yaml");
  await writeFile(broken, `apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\ndata:\n  v: "${value}\n`);
  const malformed = await runFjord(["seal", broken, "--cert", certFile]);
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /broken.yaml is not valid YAML or JSON \(\w+ at line \d+, column \d+\)/);
  printed.push(refused.stdout, refused.stderr, malformed.stdout, malformed.stderr);
});

test("kubeseal --fetch-cert, --validate and --re-encrypt work against fjord's controller through the API server's service proxy", async (t) => {
  const cluster = await useCluster();
  const client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  t.after(() => client.close());
  const keys = await createTestNamespace(cluster, t);
  const stop = new AbortController();
  const runner = await startSealedSecrets({ client, logger: pino({ level: "silent" }), signal: stop.signal, namespace: keys, keySize: 2048, watchNamespaces: [keys] });
  t.after(async () => {
    stop.abort();
    await runner.stopped;
  });
  const server = createControllerServer({
    receivers: [],
    onPush: () => Promise.resolve(0),
    metrics: createControllerMetrics(),
    readiness: () => true,
    logger: pino({ level: "silent" }),
    sealingCertificate: () => runner.certificatePem(),
    verifySealedSecret: (manifest) => runner.verify(manifest),
    reEncryptSealedSecret: (manifest) => runner.reEncrypt(manifest),
  });
  await serveThroughServiceProxy(t, client, keys, server);
  const controller = ["--controller-namespace", keys, "--controller-name", "fjord-controller"];
  const env = { KUBECONFIG: cluster.kubeconfigPath };

  const fetched = await run(kubeseal, ["--fetch-cert", ...controller], "", env);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.equal(fetched.stdout, runner.certificatePem());
  const { secret, expected } = testSecret("proxied", "shop");
  const sealedRun = await run(kubeseal, [...controller, "--format", "yaml"], stringify(secret), env);
  assert.equal(sealedRun.code, 0, sealedRun.stderr);

  // --validate posts the file as it is (YAML here) to /v1/verify.
  const valid = await run(kubeseal, ["--validate", ...controller], sealedRun.stdout, env);
  assert.equal(valid.code, 0, valid.stderr);
  const foreign = await run(kubeseal, ["--cert", certFile, "--format", "yaml"], stringify(secret));
  const invalid = await run(kubeseal, ["--validate", ...controller], foreign.stdout, env);
  assert.notEqual(invalid.code, 0);
  assert.match(invalid.stderr, /unable to decrypt sealed secret/);

  // --re-encrypt posts it to /v1/rotate and prints what comes back: sealed for the newest key.
  await runner.rotateKey();
  const rotated = await run(kubeseal, ["--re-encrypt", ...controller, "--format", "json"], sealedRun.stdout, env);
  assert.equal(rotated.code, 0, rotated.stderr);
  const reSealed = decode(rotated.stdout, "kubeseal --re-encrypt output");
  assert.notDeepEqual(reSealed.spec.encryptedData, decode(sealedRun.stdout, "kubeseal output").spec.encryptedData);
  const keySecret = await client.request<Secret>("GET", `/api/v1/namespaces/${keys}/secrets/${runner.keyNames()[0] ?? ""}`);
  const newest = parsePrivateKey(Buffer.from(keySecret.data?.["tls.key"] ?? "", "base64"), "newest key");
  assert.deepEqual(unsealSealedSecret(reSealed, [newest]).data, expected);
  const stillValid = await run(kubeseal, ["--validate", ...controller], rotated.stdout, env);
  assert.equal(stillValid.code, 0, stillValid.stderr);
  printed.push(fetched.stderr, sealedRun.stderr, valid.stdout, valid.stderr, invalid.stdout, invalid.stderr, rotated.stderr, stillValid.stdout, stillValid.stderr);
});

test("nothing fjord printed holds a plaintext", () => {
  const everything = printed.join("\n");
  assert.ok(printed.length > 10);
  for (const value of plaintexts) assert.ok(!everything.includes(value), "a plaintext was printed");
});
