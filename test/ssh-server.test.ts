// The SSH Git host of test/support/ssh-server.ts, which the ssh:// source tests rely on: it must
// serve git's own ssh transport (fetch and push, protocol v2 or v0 as asked) and refuse what a
// hosted Git service refuses, as seen by OpenSSH's client and git. Password attempts come from
// ssh2's client, because OpenSSH's never offers a method the server does not list.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import ssh2 from "ssh2";
import type { AnyAuthMethod, ParsedKey } from "ssh2";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { keyPairFromSeed } from "./support/ssh-keys.ts";
import { generateKeyPair, parseGitCommand, SSH_USER, startSshServer, type SshServer } from "./support/ssh-server.ts";

const execFileAsync = promisify(execFile);
const REFUSED = 126;

let scratch: string;
let gitServer: GitServer;
let outside: GitServer;
let ssh: SshServer;
let sshV0: SshServer;
let keyFile: string;
let keyFileV0: string;
let knownHostsFile: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fjord-ssh-test-"));
  [gitServer, outside] = await Promise.all([startGitServer(), startGitServer()]);
  await gitServer.createRepo("app");
  await gitServer.commitFiles("app", { "a.txt": "one" }, { message: "one" });
  await outside.createRepo("secret");
  await outside.commitFiles("secret", { "key.txt": "not yours" }, { message: "secret" });
  // Inside the root but leading out of it.
  await symlink(join(outside.root, "secret.git"), join(gitServer.root, "escape.git"));
  await mkdir(join(gitServer.root, "plain.git"));
  [ssh, sshV0] = await Promise.all([startSshServer(gitServer), startSshServer(gitServer, { protocolV2: false })]);
  keyFile = join(scratch, "identity");
  knownHostsFile = join(scratch, "known_hosts");
  keyFileV0 = join(scratch, "identity-v0");
  await writeFile(keyFile, ssh.clientPrivateKey, { mode: 0o600 });
  await writeFile(keyFileV0, sshV0.clientPrivateKey, { mode: 0o600 });
  await writeFile(knownHostsFile, `${ssh.knownHosts}\n${sshV0.knownHosts}\n`, { mode: 0o600 });
});

after(async () => {
  await Promise.all([ssh?.close(), sshV0?.close()]);
  await Promise.all([gitServer?.close(), outside?.close()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The ssh command line fjord gives git (src/git/git-environment.ts), for this test's key and known_hosts. */
function sshCommand(key = keyFile): string[] {
  return [
    "ssh",
    "-i",
    key,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-F",
    "/dev/null",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentityAgent=none",
  ];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs OpenSSH's client against `server` with `command`, feeding it `input`. */
function runSsh(server: SshServer, command: string | undefined, options: { user?: string; key?: string; input?: string } = {}): Promise<Run> {
  const [program = "ssh", ...args] = sshCommand(options.key);
  args.push("-p", String(server.port), "-T", `${options.user ?? SSH_USER}@127.0.0.1`);
  if (command !== undefined) args.push(command);
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** git with the test's clean environment and fjord's ssh command line. */
async function git(args: string[], extraEnv: Record<string, string> = {}, key = keyFile): Promise<{ stdout: string; stderr: string }> {
  const env = { ...gitServer.gitEnv, GIT_SSH_COMMAND: sshCommand(key).join(" "), GIT_SSH_VARIANT: "ssh", ...extraEnv };
  return execFileAsync("git", args, { env, encoding: "utf8" });
}

/** A flush packet: tells upload-pack the client wants nothing after the advertisement. */
const FLUSH = "0000";

function parseKey(key: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

describe("serving git", () => {
  test("git clones and pushes over ssh, and the push lands in the bare repository", async () => {
    const work = join(scratch, "clone");
    await git(["clone", "--quiet", ssh.url("app"), work]);
    await writeFile(join(work, "b.txt"), "pushed over ssh");
    await git(["-C", work, "add", "b.txt"]);
    await git(["-C", work, "commit", "--quiet", "-m", "over ssh"]);
    await git(["-C", work, "push", "--quiet", "origin", "HEAD:refs/heads/from-ssh"]);
    const { stdout: pushed } = await git(["-C", work, "rev-parse", "HEAD"]);
    const { stdout: landed } = await git(["--git-dir", join(gitServer.root, "app.git"), "rev-parse", "refs/heads/from-ssh"]);
    assert.equal(landed.trim(), pushed.trim());
  });

  test("protocol v2 when git asks for it, v0 from a server started with protocolV2: false", async () => {
    const trace = { GIT_TRACE_PACKET: "1" };
    const v2 = await git(["ls-remote", ssh.url("app")], trace);
    assert.match(v2.stderr, /< version 2$/m, "the server answered in protocol v2");
    assert.match(v2.stdout, /\trefs\/heads\/main$/m);
    const v0 = await git(["ls-remote", sshV0.url("app")], trace, keyFileV0);
    assert.doesNotMatch(v0.stderr, /< version 2$/m, "the server answered in protocol v0");
    assert.match(v0.stdout, /\trefs\/heads\/main$/m);
  });

  test("git's exit status and stderr reach the client", async () => {
    // plain.git is a directory under the root but no repository: git upload-pack itself fails.
    const run = await runSsh(ssh, "git-upload-pack '/plain.git'", { input: FLUSH });
    assert.equal(run.code, 128);
    assert.match(run.stderr, /does not appear to be a git repository/);
    const served = await runSsh(ssh, "git-upload-pack '/app.git'", { input: FLUSH });
    assert.equal(served.code, 0, served.stderr);
    assert.match(served.stdout, /refs\/heads\/main/);
  });

  test("close() ends open connections and stops listening", async () => {
    const gitServerForClose = await startGitServer();
    const server = await startSshServer(gitServerForClose);
    try {
      const client = new ssh2.Client();
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      await new Promise<void>((resolve, reject) => {
        client.once("ready", () => resolve()).once("error", reject);
        client.connect({ host: "127.0.0.1", port: server.port, username: SSH_USER, privateKey: server.clientPrivateKey });
      });
      await server.close();
      await closed;
      // Nothing logs in any more. (Not asserting ECONNREFUSED: another process may take the freed port.)
      const again = new ssh2.Client();
      const loggedIn = await new Promise<boolean>((resolve) => {
        again.once("error", () => resolve(false)).once("ready", () => resolve(true));
        again.connect({ host: "127.0.0.1", port: server.port, username: SSH_USER, privateKey: server.clientPrivateKey, readyTimeout: 5000 });
      });
      again.end();
      assert.equal(loggedIn, false, "logged in after close()");
    } finally {
      await gitServerForClose.close();
    }
  });
});

describe("refusals", () => {
  test("commands other than git-upload-pack and git-receive-pack are refused", async () => {
    for (const command of [
      "id",
      "sh -c id",
      "git-upload-archive '/app.git'",
      "git upload-pack '/app.git'",
      "git-upload-pack '/app.git'; id",
      "git-upload-pack '/app.git' && id",
      "git-upload-pack /app.git",
      "git-upload-pack '/app.git' --advertise-refs",
      "git-receive-pack '/app.git'\nid",
    ]) {
      const run = await runSsh(ssh, command, { input: FLUSH });
      assert.equal(run.code, REFUSED, `${command}: ${run.stderr}`);
      assert.match(run.stderr, /only git-upload-pack and git-receive-pack are served/, command);
      assert.equal(run.stdout, "", command);
    }
  });

  test("a shell is refused", async () => {
    const run = await runSsh(ssh, undefined);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /shell request failed/);
    assert.equal(run.stdout, "");
  });

  test("paths outside the root are refused: .., a symlink out of it, an absolute file-system path", async () => {
    for (const path of [
      "/../app.git",
      "/app.git/../app.git",
      "..",
      "../",
      "/",
      "",
      "./app.git",
      "/escape.git",
      join(outside.root, "secret.git"),
      "/app.git/../../" + join(outside.root, "secret.git"),
      "~/app.git",
    ]) {
      const run = await runSsh(ssh, `git-upload-pack '${path}'`, { input: FLUSH });
      assert.equal(run.code, REFUSED, `${path}: ${run.stderr}`);
      assert.match(run.stderr, /not a repository path under the root|no repository .* under the root/, path);
      assert.equal(run.stdout, "", path);
    }
    // The symlink itself points at a real repository; only the containment check keeps it out.
    const run = await runSsh(ssh, "git-receive-pack '/escape.git'", { input: FLUSH });
    assert.equal(run.code, REFUSED);
    assert.equal(run.stdout, "");
  });

  test("a client key the server did not make, or another user, is refused", async () => {
    const stranger = generateKeyPair();
    const strangerFile = join(scratch, "stranger");
    await writeFile(strangerFile, stranger.privateKey, { mode: 0o600 });
    const wrongKey = await runSsh(ssh, "git-upload-pack '/app.git'", { key: strangerFile, input: FLUSH });
    assert.equal(wrongKey.code, 255);
    assert.match(wrongKey.stderr, /Permission denied \(publickey\)/);
    assert.equal(wrongKey.stdout, "");
    // The right key offered for another account.
    const wrongUser = await runSsh(ssh, "git-upload-pack '/app.git'", { user: "root", input: FLUSH });
    assert.equal(wrongUser.code, 255);
    assert.match(wrongUser.stderr, /Permission denied \(publickey\)/);
  });

  test("a client that offers the accepted public key but cannot sign with it is refused", async () => {
    const accepted = parseKey(ssh.clientPrivateKey);
    const acceptedPublic = `${accepted.type} ${accepted.getPublicSSH().toString("base64")}`;
    const forger = parseKey((generateKeyPair()).privateKey);
    let signed = 0;
    // An agent that lists the server's accepted public key (public knowledge) and signs with its own.
    class ForgingAgent extends ssh2.BaseAgent<string> {
      getIdentities(callback: (error: Error | undefined, keys?: string[]) => void): void {
        callback(undefined, [acceptedPublic]);
      }
      sign(_key: string, data: Buffer, options: unknown, callback?: (error: Error | undefined, signature?: Buffer) => void): void {
        const done = typeof options === "function" ? (options as typeof callback) : callback;
        signed += 1;
        done?.(undefined, forger.sign(data));
      }
    }
    const client = new ssh2.Client();
    const error = await new Promise<Error>((resolve) => {
      client.once("error", resolve).once("ready", () => resolve(new Error("logged in with a forged signature")));
      client.connect({ host: "127.0.0.1", port: ssh.port, username: SSH_USER, hostVerifier: () => true, agent: new ForgingAgent() });
    });
    client.end();
    assert.match(error.message, /All configured authentication methods failed/);
    assert.ok(signed > 0, "the server took the key and asked for a signature");
  });

  test("password, keyboard-interactive and none are refused, and only publickey is offered", async () => {
    const attempts: AnyAuthMethod[] = [
      { type: "none", username: SSH_USER },
      { type: "password", username: SSH_USER, password: "" },
      { type: "password", username: SSH_USER, password: SSH_USER },
      {
        type: "keyboard-interactive",
        username: SSH_USER,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => SSH_USER)),
      },
    ];
    const offered: string[][] = [];
    const client = new ssh2.Client();
    const error = await new Promise<Error>((resolve) => {
      client.once("error", resolve).once("ready", () => resolve(new Error("logged in without the key")));
      let next = 0;
      client.connect({
        host: "127.0.0.1",
        port: ssh.port,
        username: SSH_USER,
        hostVerifier: () => true,
        authHandler: (methodsLeft, _partial, callback) => {
          if (methodsLeft) offered.push(methodsLeft);
          const attempt = attempts[next++];
          if (attempt) callback(attempt);
          else callback(false as unknown as AnyAuthMethod);
        },
      });
    });
    client.end();
    assert.match(error.message, /All configured authentication methods failed/);
    assert.equal(offered.length, attempts.length, "every attempt reached the server and was refused");
    for (const methods of offered) assert.deepEqual(methods, ["publickey"]);
  });
});

describe("parseGitCommand", () => {
  test("takes the exact form git's ssh transport sends", () => {
    assert.deepEqual(parseGitCommand("git-upload-pack '/app.git'"), { service: "git-upload-pack", repository: "app.git" });
    assert.deepEqual(parseGitCommand("git-receive-pack 'team/app.git'"), { service: "git-receive-pack", repository: "team/app.git" });
  });

  test("refuses quoting tricks and dot segments", () => {
    for (const command of [
      "git-upload-pack '/a'\\''b.git'",
      "git-upload-pack '/a'\\!'b.git'",
      "git-upload-pack '/team/../app.git'",
      "git-upload-pack '/team//app.git'",
      "git-upload-pack '/.git'",
      "git-upload-pack '/app.git/'",
      "git-upload-pack '/-n.git'",
    ]) {
      assert.ok("refused" in parseGitCommand(command), command);
    }
  });
});

describe("test keys", () => {
  test("a public key that starts with zero bytes is written whole, as OpenSSH reads it", async () => {
    // This seed's public key starts with two zero bytes (the case ssh2's own key generator truncates).
    const seed = Buffer.alloc(32);
    seed.writeUInt32BE(36, 28);
    const keys = keyPairFromSeed(seed);
    const [, blob = ""] = keys.publicKey.split(" ");
    assert.equal(Buffer.from(blob, "base64").subarray(19, 21).toString("hex"), "0000");
    const file = join(scratch, "zero-key");
    await writeFile(file, keys.privateKey, { mode: 0o600 });
    const { stdout } = await execFileAsync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
    assert.equal(stdout.trim(), keys.publicKey);
    const parsed = parseKey(keys.privateKey);
    assert.ok(parsed.verify(Buffer.from("data"), parsed.sign(Buffer.from("data"))));
    assert.ok(parseKey(keys.publicKey).getPublicSSH().equals(parsed.getPublicSSH()));
  });

  test("every generated key pair parses (1,024 of them; a truncating generator fails one in 256)", () => {
    for (let i = 0; i < 1024; i++) {
      const keys = generateKeyPair();
      assert.ok(parseKey(keys.publicKey).getPublicSSH().equals(parseKey(keys.privateKey).getPublicSSH()), keys.publicKey);
    }
  });
});
