/**
 * Issue 13, attacks 1 to 3, replayed against the real helm and kustomize: a tenant who can push
 * to one repository tries to run code in the controller through helm, to read the controller's
 * files through symlinks, and to make kustomize read other directories or the network. Each
 * must fail with a clear error and leak nothing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { before, test, type TestContext } from "node:test";
import { execFileSync } from "node:child_process";
import { buildKustomization } from "../src/render/kustomize.ts";
import { resolveRenderDirectory } from "../src/render/paths.ts";
import { RenderError, render, type RenderOptions } from "../src/render/render.ts";
import { describeToolSandbox } from "../src/render/tool-sandbox.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { startGitServer } from "./support/git-server.ts";

let bins: Record<"helm" | "kustomize", string>;

before(async () => {
  bins = await ensureBinaries(["helm", "kustomize"], () => {});
});

/** A scratch directory holding `repo/` (the checkout) and whatever lies outside it. */
async function workspace(t: TestContext): Promise<{ base: string; repo: string }> {
  const base = await realpath(await mkdtemp(path.join(tmpdir(), "fjord-attack-")));
  t.after(() => rm(base, { recursive: true, force: true }));
  const repo = path.join(base, "repo");
  await mkdir(repo);
  return { base, repo };
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
}

async function failure(options: RenderOptions): Promise<RenderError> {
  try {
    const objects = await render(options);
    assert.fail(`rendered ${objects.length} objects: ${JSON.stringify(objects.map(({ object }) => object))}`);
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    return error;
  }
}

/** No line of `secret` (a host file's content) appears in `text`. */
function assertNoLineOf(text: string, secret: string): void {
  for (const line of secret.split("\n").filter((line) => line.trim().length > 3)) {
    assert.equal(text.includes(line), false, `leaked ${JSON.stringify(line)} in:\n${text}`);
  }
}

const CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: safe\n";

// ---------------------------------------------------------------------------------------------
// Attack 1: code execution through helm

async function pwnChart(repo: string, marker: string, chartYaml: string): Promise<void> {
  await writeFiles(repo, {
    "chart/Chart.yaml": chartYaml,
    "chart/templates/configmap.yaml": CONFIGMAP,
    // Run from the repository by helm as a post-renderer: proof of code execution.
    "chart/pwn.sh": `#!/bin/sh\necho pwned > '${marker}'\ncat\n`,
  });
  await chmod(path.join(repo, "chart/pwn.sh"), 0o755);
}

test("attack 1: a Chart.yaml name with a flag and a merge key never reaches helm's command line", async (t) => {
  const { base, repo } = await workspace(t);
  const marker = path.join(base, "pwned");
  await pwnChart(repo, marker, 'apiVersion: v2\nname: "--post-renderer=chart/pwn.sh"\n<<: {name: mychart}\nversion: 0.1.0\n');
  const error = await failure({ root: repo, path: "chart", helmBinary: bins.helm });
  assert.equal(error.code, "tool-config");
  assert.equal(error.file, "chart/Chart.yaml");
  assert.match(error.message, /^chart\/Chart\.yaml:3:1: merge key << at the top level/);
  assert.match(error.message, /fix: write the merged keys out in full/);
  assert.equal(existsSync(marker), false, "the post-renderer ran");
});

test("attack 1: release names that are flags, or too long for helm, are refused before helm runs", async (t) => {
  const { base, repo } = await workspace(t);
  const marker = path.join(base, "pwned");
  await pwnChart(repo, marker, "apiVersion: v2\nname: mychart\nversion: 0.1.0\n");
  for (const releaseName of ["--post-renderer=chart/pwn.sh", "--", "a".repeat(54)]) {
    const error = await failure({ root: repo, path: "chart", helmBinary: bins.helm, helm: { releaseName } });
    assert.equal(error.code, "helm-settings", error.message);
    assert.match(error.message, /the helm release name .* (is not a valid release name|is 54 characters long; helm allows at most 53)/);
    assert.match(error.message, /fix: give a release name \(--helm-release\) of lowercase letters/);
  }
  // The chart's own name is the default release name: held to the same rule.
  for (const name of ["--post-renderer=pwn", "a".repeat(54)]) {
    await writeFile(path.join(repo, "chart/Chart.yaml"), `apiVersion: v2\nname: "${name}"\nversion: 0.1.0\n`);
    const error = await failure({ root: repo, path: "chart", helmBinary: bins.helm });
    assert.equal(error.code, "helm-settings", error.message);
    assert.equal(error.file, "chart/Chart.yaml");
    assert.match(error.message, /the chart's name .*, used as the helm release name/);
    assert.match(error.message, /fix: rename the chart in Chart\.yaml/);
  }
  assert.equal(existsSync(marker), false, "the post-renderer ran");
  // And a good name still renders.
  await writeFile(path.join(repo, "chart/Chart.yaml"), "apiVersion: v2\nname: mychart\nversion: 0.1.0\n");
  const objects = await render({ root: repo, path: "chart", helmBinary: bins.helm, helm: { releaseName: "shop.web-1", namespace: "shop" } });
  assert.deepEqual(objects.map(({ object }) => `${object.kind}/${object.metadata.name}`), ["ConfigMap/settings"]);
});

// ---------------------------------------------------------------------------------------------
// Attack 2: symlinks out of the checkout

const FILES_GET_CHART = {
  "chart/Chart.yaml": "apiVersion: v2\nname: leak\nversion: 0.1.0\n",
  "chart/templates/configmap.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  content: {{ .Files.Get "link" | quote }}\n',
};

test("attack 2: .Files.Get of a symlink to /etc/passwd, to a token file or up through ../.. renders nothing", async (t) => {
  const passwd = await readFile("/etc/passwd", "utf8");
  const { base, repo } = await workspace(t);
  const token = "eyJhbGciOiJSUzI1NiJ9.service-account-token-of-the-controller.c2lnbmF0dXJl";
  await writeFiles(base, { "serviceaccount/token": `${token}\n` });
  await writeFiles(repo, FILES_GET_CHART);
  for (const [target, secret] of [
    ["/etc/passwd", passwd],
    [path.join(base, "serviceaccount/token"), token],
    ["../../serviceaccount/token", token],
  ] as const) {
    await rm(path.join(repo, "chart/link"), { force: true });
    await symlink(target, path.join(repo, "chart/link"));
    const error = await failure({ root: repo, path: "chart", helmBinary: bins.helm });
    assert.equal(error.code, "path-outside-root");
    assert.equal(error.file, "chart/link");
    assert.match(error.message, /^chart\/link: symlink chart\/link points (to an absolute path|outside the repository)/);
    assert.equal(error.message.includes(target), false, "the error quotes the link's target");
    assertNoLineOf(error.message, secret);
  }
});

test("attack 2: a symlinked kustomization.yaml or Chart.yaml pointing outside is refused without quoting it", async (t) => {
  const { base, repo } = await workspace(t);
  const secret = "database-password: hunter2-of-the-platform-team\napi-key: sk-live-0123456789abcdef";
  await writeFiles(base, { "host/secret.yaml": `${secret}\n` });
  await mkdir(path.join(repo, "app"));
  await symlink(path.join(base, "host/secret.yaml"), path.join(repo, "app/kustomization.yaml"));
  await mkdir(path.join(repo, "chart"));
  await symlink("../../host/secret.yaml", path.join(repo, "chart/Chart.yaml"));

  const kustomize = await failure({ root: repo, path: "app", kustomizeBinary: bins.kustomize });
  assert.equal(kustomize.code, "path-outside-root");
  assert.equal(kustomize.file, "app/kustomization.yaml");
  assertNoLineOf(kustomize.message, secret);

  await rm(path.join(repo, "app/kustomization.yaml"));
  const helm = await failure({ root: repo, path: "chart", helmBinary: bins.helm });
  assert.equal(helm.code, "path-outside-root");
  assert.equal(helm.file, "chart/Chart.yaml");
  assert.match(helm.message, /symlink chart\/Chart\.yaml points outside the repository/);
  assertNoLineOf(helm.message, secret);
});

test("attack 2: a symlink anywhere in the checkout fails every render from it, even of another directory", async (t) => {
  const { repo } = await workspace(t);
  await writeFiles(repo, { "apps/web/configmap.yaml": CONFIGMAP });
  await mkdir(path.join(repo, "unrelated"));
  await symlink("../..", path.join(repo, "unrelated/up"));
  const error = await failure({ root: repo, path: "apps/web" });
  assert.equal(error.file, "unrelated/up");
});

test("attack 2: symlinks that stay inside the repository keep working", async (t) => {
  const { repo } = await workspace(t);
  await writeFiles(repo, {
    ...FILES_GET_CHART,
    "shared/greeting.txt": "hello from shared",
    "shared/configmap.yaml": CONFIGMAP,
    "base/kustomization.yaml": "resources:\n- configmap.yaml\n",
    "overlay/kustomization.yaml": "resources:\n- ../linked-base\nnamePrefix: prod-\n",
  });
  await symlink("../shared/greeting.txt", path.join(repo, "chart/link"));
  await symlink("../shared/configmap.yaml", path.join(repo, "base/configmap.yaml"));
  await symlink("base", path.join(repo, "linked-base"));
  await mkdir(path.join(repo, "plain"));
  await symlink("../shared/configmap.yaml", path.join(repo, "plain/configmap.yaml"));

  const chart = await render({ root: repo, path: "chart", helmBinary: bins.helm });
  assert.deepEqual(chart[0]?.object.data, { content: "hello from shared" });
  const plain = await render({ root: repo, path: "plain" });
  assert.deepEqual(plain.map(({ object }) => object.metadata.name), ["settings"]);
  // kustomize's own root-only rule still applies to files (a base's file may not be a link
  // to a sibling directory), so the link here is to a whole base.
  await rm(path.join(repo, "base/configmap.yaml"));
  await writeFiles(repo, { "base/configmap.yaml": CONFIGMAP });
  const overlay = await render({ root: repo, path: "overlay", kustomizeBinary: bins.kustomize });
  assert.deepEqual(overlay.map(({ object }) => object.metadata.name), ["prod-settings"]);
});

// ---------------------------------------------------------------------------------------------
// Attack 3: kustomize leaves the repository

interface Listener {
  url: string;
  requests: string[];
  server: Server;
}

async function listen(t: TestContext, host = "127.0.0.1"): Promise<Listener> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? "");
    response.setHeader("content-type", "application/yaml");
    response.end("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-the-network\ndata:\n  leaked: network-content\n");
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}/x.yaml`, requests, server };
}

const OTHER_TEAM_SECRET = "other-team-private-value";

/** A directory shaped like another tenant's checkout, with a kustomization of its own. */
async function otherTeam(base: string): Promise<string> {
  const dir = path.join(base, "fjord-checkout-8f14e45f", "files", "team-b");
  await writeFiles(dir, {
    "kustomization.yaml": "resources:\n- secret.yaml\n",
    "secret.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-b-settings\ndata:\n  value: ${OTHER_TEAM_SECRET}\n`,
  });
  return dir;
}

/** Ways of writing `resources` that go-yaml and encoding/json read as `resources`, next to a harmless explicit key. */
function spellings(reference: string): Record<(typeof SPELLINGS)[number], string> {
  const listed = `\n- ${JSON.stringify(reference)}\n`;
  return {
    resources: `resources:${listed}`,
    Resources: `Resources:${listed}`,
    "re\u017fources": `re\u017fources:${listed}`,
    // The explicit key is what the YAML spec (and fjord's old reader) keeps; go-yaml lets the later merge win.
    "merge key": `resources:\n- configmap.yaml\n<<: {resources: [${JSON.stringify(reference)}]}\n`,
  };
}

const SPELLINGS = ["resources", "Resources", "re\u017fources", "merge key"] as const;

/**
 * For every spelling of `resources`, a fresh repository whose app/kustomization.yaml names
 * `reference(base)` (base: the directory around the repository): refused before kustomize runs,
 * naming the kustomization, quoting nothing from outside.
 */
async function assertRefusedEverySpelling(t: TestContext, reference: (base: string) => Promise<string> | string, options: Partial<RenderOptions> = {}): Promise<void> {
  for (const spelling of SPELLINGS) {
    const { base, repo } = await workspace(t);
    const value = await reference(base);
    await writeFiles(repo, { "app/configmap.yaml": CONFIGMAP, "app/kustomization.yaml": spellings(value)[spelling] });
    const error = await failure({ root: repo, path: "app", kustomizeBinary: bins.kustomize, ...options });
    assert.ok(["tool-config", "path-outside-root", "remote-base"].includes(error.code), `${spelling}: ${error.code} ${error.message}`);
    assert.equal(error.file, "app/kustomization.yaml", `${spelling}: ${error.message}`);
    assert.equal(error.message.includes(OTHER_TEAM_SECRET), false);
    assert.equal(error.message.includes("network-content"), false);
  }
}

test("attack 3: folded and merged `resources` keys cannot smuggle a base from outside the repository", async (t) => {
  await assertRefusedEverySpelling(t, async (base) => path.relative(path.join(base, "repo", "app"), await otherTeam(base)));
  // The refusals say what to write instead.
  const { repo } = await workspace(t);
  await writeFiles(repo, { "app/kustomization.yaml": "re\u017fources:\n- ../../team-b\n" });
  const error = await failure({ root: repo, path: "app", kustomizeBinary: bins.kustomize });
  assert.match(error.message, /^app\/kustomization\.yaml:1:1: key "re\\u017fources" at the top level is not "resources", but kustomize would read it as "resources"/);
  assert.match(error.message, /fix: write `resources`/);
});

test("attack 3: an absolute path to another checkout is refused, however it is spelled", async (t) => {
  await assertRefusedEverySpelling(t, otherTeam);
});

test("attack 3: http://127.0.0.1 resources are refused and the server never hears of them", async (t) => {
  const listener = await listen(t);
  await assertRefusedEverySpelling(t, () => listener.url);
  assert.deepEqual(listener.requests, []);
});

test("attack 3: file:// resources are refused even where remote bases are allowed", async (t) => {
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, stdio: "ignore" });
  const reference = async (base: string): Promise<string> => {
    const dir = await otherTeam(base);
    git(dir, "init", "--quiet");
    git(dir, "-c", "user.name=b", "-c", "user.email=b@example.com", "add", ".");
    git(dir, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "--quiet", "-m", "team b");
    return `file://${dir}`;
  };
  await assertRefusedEverySpelling(t, reference, { allowRemoteBases: true });
  const { repo } = await workspace(t);
  await writeFiles(repo, { "app/kustomization.yaml": "resources:\n- file:///srv/team-b\n" });
  const error = await failure({ root: repo, path: "app", kustomizeBinary: bins.kustomize, allowRemoteBases: true });
  assert.match(error.message, /resources entry "file:\/\/\/srv\/team-b" is a file: URL, which reads outside the repository/);
});

test("attack 3: ../ out of the root is refused", async (t) => {
  await assertRefusedEverySpelling(t, async (base) => {
    await writeFiles(base, { "sibling/kustomization.yaml": `resources:\n- cm.yaml\n`, "sibling/cm.yaml": CONFIGMAP.replace("safe", OTHER_TEAM_SECRET) });
    return "../../sibling";
  });
});

// ---------------------------------------------------------------------------------------------
// The physical layers, on their own (the scan bypassed)

async function buildWithoutScan(repo: string, dirRel: string) {
  const dir = await resolveRenderDirectory(repo, dirRel);
  return buildKustomization({
    dir,
    kustomizationFile: path.join(dir.dirReal, "kustomization.yaml"),
    tool: { binary: bins.kustomize, args: ["build"] },
    timeoutMs: 60_000,
    allowRemoteBases: false,
  });
}

async function buildFailure(repo: string, dirRel: string): Promise<RenderError> {
  try {
    await buildWithoutScan(repo, dirRel);
  } catch (error) {
    if (error instanceof RenderError) return error;
    throw error;
  }
  assert.fail("kustomize built it");
}

test("attack 3: in the namespace sandbox kustomize reaches no loopback server and no other directory, even unscanned", async (t) => {
  const sandbox = await describeToolSandbox();
  if (sandbox.level === "none") {
    t.skip(`no namespace sandbox here: ${sandbox.description}`);
    return;
  }
  const listener = await listen(t);
  const { base, repo } = await workspace(t);
  await writeFiles(repo, { "app/kustomization.yaml": `resources:\n- ${listener.url}\n` });
  const network = await buildFailure(repo, "app");
  assert.equal(network.code, "kustomize-failed");
  assert.deepEqual(listener.requests, [], "kustomize reached the loopback server");

  if (sandbox.level !== "chroot") return;
  const other = await otherTeam(base);
  await writeFiles(repo, { "app/kustomization.yaml": `resources:\n- ${other}\n` });
  const away = await buildFailure(repo, "app");
  assert.equal(away.code, "kustomize-failed");
  assert.equal(away.message.includes(OTHER_TEAM_SECRET), false);
  // The same build from inside the repository works: the sandbox holds the repository.
  await writeFiles(repo, { "app/kustomization.yaml": "resources:\n- configmap.yaml\n", "app/configmap.yaml": CONFIGMAP });
  assert.deepEqual((await buildWithoutScan(repo, "app")).map(({ object }) => object.metadata.name), ["settings"]);
});

test("attack 3: without namespaces, kustomize still has no git and no usable proxy, even unscanned", async (t) => {
  const previous = process.env.FJORD_TOOL_SANDBOX;
  process.env.FJORD_TOOL_SANDBOX = "off";
  t.after(() => {
    if (previous === undefined) delete process.env.FJORD_TOOL_SANDBOX;
    else process.env.FJORD_TOOL_SANDBOX = previous;
  });
  const { repo } = await workspace(t);

  // A remote base on a Git server: kustomize would clone it with the git it finds on PATH.
  const server = await startGitServer();
  t.after(() => server.close());
  await server.createRepo("team-b");
  await server.commitFiles(
    "team-b",
    { "base/kustomization.yaml": "resources:\n- secret.yaml\n", "base/secret.yaml": CONFIGMAP.replace("safe", OTHER_TEAM_SECRET) },
    { message: "team b" },
  );
  await writeFiles(repo, { "app/kustomization.yaml": `resources:\n- ${server.repoUrl("team-b")}//base?ref=main\n` });
  const clone = await buildFailure(repo, "app");
  assert.equal(clone.code, "kustomize-failed");
  assert.match(clone.message, /no 'git' program on path/);
  assert.equal(clone.message.includes(OTHER_TEAM_SECRET), false);

  // A file over HTTP on an address that is not loopback: Go sends it through the proxy, which is dead.
  const address = Object.values(networkInterfaces())
    .flat()
    .find((found) => found?.family === "IPv4" && !found.internal)?.address;
  if (address === undefined) {
    t.diagnostic("no non-loopback IPv4 address here: the proxy part is not exercised");
    return;
  }
  const listener = await listen(t, address);
  await writeFiles(repo, { "app/kustomization.yaml": `resources:\n- ${listener.url}\n` });
  const proxied = await buildFailure(repo, "app");
  assert.equal(proxied.code, "kustomize-failed");
  assert.match(proxied.message, /proxyconnect tcp: dial tcp 127\.0\.0\.1:9/);
  assert.deepEqual(listener.requests, [], "kustomize reached the server past the proxy");
});
