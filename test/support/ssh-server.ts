// A throwaway SSH server for tests: the real OpenSSH sshd (Debian package openssh-server), run in
// the foreground on a free loopback port with keys generated for the occasion, serving the bare
// repositories of a GitServer to git's own ssh transport.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** sshd refuses to start unless run by its absolute path (it re-executes itself per connection). */
const SSHD = "/usr/sbin/sshd";
const START_TIMEOUT_MS = 10_000;

export interface SshServerOptions {
  /**
   * Accept GIT_PROTOCOL from clients so git speaks protocol v2 (default). With false the server
   * speaks v0, which refuses to fetch a commit that is not a branch or tag tip by its SHA.
   */
  protocolV2?: boolean;
}

export interface SshServer {
  readonly port: number;
  /** An ssh:// URL for `<root>/<name>.git`, logging in as the user running the tests. */
  url(name: string): string;
  /** The OpenSSH private key the server accepts. */
  readonly clientPrivateKey: string;
  /** A known_hosts line for this server: `[127.0.0.1]:PORT ssh-ed25519 ...`. */
  readonly knownHosts: string;
  close(): Promise<void>;
}

export interface KeyPair {
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
}

/** Starts sshd serving the bare repositories under `repositories.root` (a GitServer's root). */
export async function startSshServer(repositories: { root: string }, options: SshServerOptions = {}): Promise<SshServer> {
  await access(SSHD, constants.X_OK).catch(() => {
    throw new Error(`${SSHD} not found: the SSH tests need OpenSSH's server (Debian/Ubuntu: apt-get install openssh-server)`);
  });
  const user = userInfo().username;
  const base = await mkdtemp(join(tmpdir(), "fjord-sshd-"));
  try {
    const [hostKey, clientKey] = await Promise.all([writeKeyPair(join(base, "host_key")), writeKeyPair(join(base, "client_key"))]);
    await writeFile(join(base, "authorized_keys"), clientKey.publicKey, { mode: 0o600 });
    // As root, sshd insists on its privilege-separation directory, which only its own service unit creates.
    if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });

    // The port is found by binding and releasing it; should another process take it in between, try again.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const configFile = join(base, "sshd_config");
      await writeFile(configFile, sshdConfig(base, port, user, options.protocolV2 ?? true));
      try {
        const child = await startSshd(configFile, port);
        return {
          port,
          url: (name) => `ssh://${user}@127.0.0.1:${port}${join(repositories.root, `${name}.git`)}`,
          clientPrivateKey: clientKey.privateKey,
          knownHosts: `[127.0.0.1]:${port} ${hostKey.publicKey}`,
          close: async () => {
            await stop(child);
            await rm(base, { recursive: true, force: true });
          },
        };
      } catch (error) {
        if (attempt >= 3 || !/Address already in use|Cannot bind/i.test(String(error))) throw error;
      }
    }
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
}

/** A fresh ed25519 key pair, e.g. to build a known_hosts line that must not match. */
export async function generateKeyPair(): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), "fjord-sshkey-"));
  try {
    return await writeKeyPair(join(dir, "key"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeKeyPair(file: string): Promise<KeyPair> {
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fjord-test", "-f", file]);
  const [privateKey, publicKey] = await Promise.all([readFile(file, "utf8"), readFile(`${file}.pub`, "utf8")]);
  return { privateKey, publicKey: publicKey.trim() };
}

function sshdConfig(base: string, port: number, user: string, protocolV2: boolean): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(base, "host_key")}`,
    "PidFile none",
    `AuthorizedKeysFile ${join(base, "authorized_keys")}`,
    // The key files live in a temp dir whose modes sshd's owner checks do not expect.
    "StrictModes no",
    "UsePAM no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    // Root may log in with a key only; the tests run as root in CI containers.
    "PermitRootLogin prohibit-password",
    `AllowUsers ${user}`,
    "AllowTcpForwarding no",
    "AllowAgentForwarding no",
    "X11Forwarding no",
    "PermitTTY no",
    "PrintMotd no",
    "UseDNS no",
    ...(protocolV2 ? ["AcceptEnv GIT_PROTOCOL"] : []),
    "LogLevel INFO",
    "",
  ].join("\n");
}

function startSshd(configFile: string, port: number): Promise<ChildProcess> {
  // -D: stay in the foreground; -e: log to stderr. Its own process group, so that close() also
  // ends the per-connection children it forks.
  const child = spawn(SSHD, ["-D", "-e", "-f", configFile], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let log = "";
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child, "SIGKILL");
      reject(new Error(`sshd did not start (${reason}):\n${log}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stderr?.setEncoding("utf8");
    // Keeps draining after start-up too, so a chatty sshd never blocks on a full pipe.
    child.stderr?.on("data", (chunk: string) => {
      if (settled) return;
      log += chunk;
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        settled = true;
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("error", (error) => fail(error.message));
    child.once("exit", (code, signal) => fail(`exited with ${code ?? signal}`));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
  // Connection children may outlive the listener by a moment; they are in the same group.
  killGroup(child, "SIGKILL");
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
