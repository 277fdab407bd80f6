// A throwaway SSH Git host for tests, served by the `ssh2` package (pure JavaScript, a dev
// dependency), so the SSH tests need nothing outside node_modules and no root: a host key made
// per server (./ssh-keys.ts), public-key login with the one client key made for it, and `exec` of
// `git-upload-pack` / `git-receive-pack` on the bare repositories of a GitServer, run by the real
// `git upload-pack` / `git receive-pack`. Anything else (passwords, other keys or users, shells,
// other commands, paths that leave the root) is refused, as a hosted Git service would.

import { spawn, type ChildProcess } from "node:child_process";
import { timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import type { Writable } from "node:stream";
import ssh2 from "ssh2";
import type { AuthContext, Connection, ParsedKey, ServerChannel, Session } from "ssh2";
import { generateKeyPair } from "./ssh-keys.ts";

export { generateKeyPair, type KeyPair } from "./ssh-keys.ts";

/** The login name in every URL; any other user is refused, as on a hosted Git service. */
export const SSH_USER = "git";

/** Exit status of a refused command, like a shell's "cannot execute". */
const REFUSED_EXIT_CODE = 126;
/** GIT_PROTOCOL is a colon-separated list of key=value pairs (git's protocol-v2 docs); anything else is dropped. */
const GIT_PROTOCOL_VALUE = /^[A-Za-z0-9-]+=[A-Za-z0-9.-]+(?::[A-Za-z0-9-]+=[A-Za-z0-9.-]+)*$/;
const MAX_GIT_PROTOCOL_LENGTH = 256;
/** `git-upload-pack '<path>'` as git's ssh transport sends it (git sq-quotes the path). */
const GIT_COMMAND = /^(git-upload-pack|git-receive-pack) '([^']*)'$/;
/** Repository paths relative to the root: segments that cannot be `.`/`..`, optionally after one `/`. */
const REPOSITORY_PATH = /^\/?([A-Za-z0-9_][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)*)$/;

export interface SshServerOptions {
  /**
   * Accept GIT_PROTOCOL from clients so git speaks protocol v2 (default). With false the server
   * speaks v0, which refuses to fetch a commit that is not a branch or tag tip by its SHA.
   */
  protocolV2?: boolean;
}

export interface SshServer {
  readonly port: number;
  /** An ssh:// URL for `<root>/<name>.git`, logging in as SSH_USER. */
  url(name: string): string;
  /** The OpenSSH private key the server accepts (the only one). */
  readonly clientPrivateKey: string;
  /** A known_hosts line for this server: `[127.0.0.1]:PORT ssh-ed25519 ...`. */
  readonly knownHosts: string;
  close(): Promise<void>;
}

export type GitCommand = { service: "git-upload-pack" | "git-receive-pack"; repository: string } | { refused: string };

/**
 * What an exec request asks for: one of git's two pack services on a repository path relative to
 * the root, or the reason it is refused. Only the exact form git's ssh transport sends is taken.
 */
export function parseGitCommand(command: string): GitCommand {
  const match = GIT_COMMAND.exec(command);
  if (!match) return { refused: "only git-upload-pack and git-receive-pack are served" };
  const [, service, path] = match as unknown as [string, "git-upload-pack" | "git-receive-pack", string];
  const repository = REPOSITORY_PATH.exec(path)?.[1];
  if (repository === undefined) return { refused: `not a repository path under the root: ${JSON.stringify(path)}` };
  return { service, repository };
}

/** Starts an SSH Git host serving the bare repositories under `repositories.root` (a GitServer's root). */
export async function startSshServer(repositories: { root: string }, options: SshServerOptions = {}): Promise<SshServer> {
  const protocolV2 = options.protocolV2 ?? true;
  const [hostKey, clientKey] = [generateKeyPair(), generateKeyPair()];
  const [root, home] = await Promise.all([realpath(repositories.root), mkdtemp(join(tmpdir(), "fjord-ssh-home-"))]);
  const clientPublicKey = parsePublicKey(clientKey.publicKey);
  // git children see only this: no user or system config of whoever runs the tests.
  const gitEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };

  const connections = new Set<Connection>();
  const children = new Set<ChildProcess>();
  const server = new ssh2.Server({ hostKeys: [hostKey.privateKey] }, (connection) => {
    connections.add(connection);
    connection.once("close", () => connections.delete(connection));
    // A client that hangs up mid-handshake is no failure of the server.
    connection.on("error", () => undefined);
    connection.on("authentication", (context) => authenticate(context, clientPublicKey));
    connection.on("ready", () => {
      connection.on("session", (accept) => {
        serveSession(accept(), { root, gitEnv, protocolV2, children });
      });
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url: (name) => `ssh://${SSH_USER}@127.0.0.1:${port}/${name}.git`,
    clientPrivateKey: clientKey.privateKey,
    knownHosts: `[127.0.0.1]:${port} ${hostKey.publicKey}`,
    async close() {
      const exited = [...children].map((child) => once(child, "close"));
      for (const child of children) child.kill("SIGKILL");
      const closed = new Promise((resolve) => server.close(resolve));
      for (const connection of connections) connection.end();
      await Promise.all([closed, ...exited]);
      await rm(home, { recursive: true, force: true });
    },
  };
}

function parsePublicKey(line: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(line);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

/** Public-key login as SSH_USER with the one client key; every other method and key is refused. */
function authenticate(context: AuthContext, accepted: ParsedKey): void {
  const refuse = () => context.reject(["publickey"]);
  if (context.method !== "publickey" || context.username !== SSH_USER) return refuse();
  const offered = context.key;
  const expected = accepted.getPublicSSH();
  if (offered.algo !== accepted.type || offered.data.length !== expected.length || !timingSafeEqual(offered.data, expected)) return refuse();
  // Without a signature the client only asks whether this key would do; it signs in the next request.
  if (context.signature === undefined || context.blob === undefined) return context.accept();
  if (accepted.verify(context.blob, context.signature, context.hashAlgo) !== true) return refuse();
  context.accept();
}

interface SessionContext {
  root: string;
  gitEnv: Readonly<Record<string, string>>;
  protocolV2: boolean;
  children: Set<ChildProcess>;
}

/** One session: optional GIT_PROTOCOL, then one exec. Requests with no listener (shell, pty, subsystem, ...) ssh2 refuses. */
function serveSession(session: Session, context: SessionContext): void {
  let gitProtocol: string | undefined;
  // OpenSSH sends env without asking for a reply, in which case ssh2 passes no accept/reject.
  session.on("env", (accept: (() => void) | undefined, reject: (() => void) | undefined, info) => {
    const wanted = context.protocolV2 && info.key === "GIT_PROTOCOL";
    if (wanted && info.val.length <= MAX_GIT_PROTOCOL_LENGTH && GIT_PROTOCOL_VALUE.test(info.val)) {
      gitProtocol = info.val;
      accept?.();
    } else {
      reject?.();
    }
  });
  session.on("exec", (accept, _reject, info) => {
    // accept() gives nothing for a second exec on the same session.
    const channel = accept() as ServerChannel | undefined;
    if (channel === undefined) return;
    channel.on("error", () => undefined);
    const env = gitProtocol === undefined ? context.gitEnv : { ...context.gitEnv, GIT_PROTOCOL: gitProtocol };
    void runGitCommand(channel, info.command, { ...context, gitEnv: env });
  });
}

async function runGitCommand(channel: ServerChannel, command: string, context: SessionContext): Promise<void> {
  const request = parseGitCommand(command);
  if ("refused" in request) return refuse(channel, request.refused);
  const dir = await repositoryDir(context.root, request.repository);
  if (dir === undefined) return refuse(channel, `no repository ${JSON.stringify(request.repository)} under the root`);

  // --strict: the exact directory, no `<dir>/.git` or `<dir>.git` guessing.
  const args = request.service === "git-upload-pack" ? ["upload-pack", "--strict", dir] : ["receive-pack", dir];
  const child = spawn("git", args, { env: context.gitEnv, stdio: ["pipe", "pipe", "pipe"] });
  context.children.add(child);
  const exited = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>;
  child.on("error", () => undefined);
  // git may exit before reading all its input (e.g. a refused push).
  child.stdin.on("error", () => undefined);
  channel.pipe(child.stdin);
  child.stdout.pipe(channel, { end: false });
  child.stderr.pipe(channel.stderr, { end: false });
  // The client hung up: nobody reads the answer any more.
  channel.once("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });

  const [code, signal] = await exited.catch((): [number | null, NodeJS.Signals | null] => [null, null]);
  context.children.delete(child);
  await finish(channel, signal ?? code ?? 1);
}

/** The real directory of a repository path, if it is a directory inside the root (symlinks resolved). */
async function repositoryDir(root: string, repository: string): Promise<string | undefined> {
  try {
    const dir = await realpath(join(root, repository));
    if (!dir.startsWith(root + sep)) return undefined;
    return (await stat(dir)).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

async function refuse(channel: ServerChannel, reason: string): Promise<void> {
  channel.stderr.write(`fjord test ssh server: ${reason}\n`);
  await finish(channel, REFUSED_EXIT_CODE);
}

/** Sends what is still queued, then the exit status, then EOF and close, in the order OpenSSH's client expects. */
async function finish(channel: ServerChannel, status: number | NodeJS.Signals): Promise<void> {
  await Promise.all([flushed(channel.stderr, channel), flushed(channel, channel)]);
  if (typeof status === "number") channel.exit(status);
  else channel.exit(status.replace(/^SIG/, ""), false, "");
  channel.end();
}

/**
 * Resolves once everything written to `stream` so far has gone out (an empty write completes only
 * after those before it, which wait for the client's window), or once the channel is closed.
 */
function flushed(stream: Writable, channel: ServerChannel): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) return resolve();
    channel.once("close", () => resolve());
    stream.write(Buffer.alloc(0), () => resolve());
  });
}
