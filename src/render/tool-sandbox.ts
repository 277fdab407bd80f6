/**
 * Runs helm and kustomize where they physically cannot leave the repository, when the platform
 * lets an unprivileged process do that: Linux user namespaces. Probed once per process.
 *
 * - "chroot": a new user, network and mount namespace. The tool's root directory is a fresh
 *   tmpfs holding only the repository (bound read-only where the kernel allows remounting it),
 *   its scratch home, the tool's own binary and /dev/null, each at its usual path. No network
 *   at all, not even loopback. Needs a static binary (Go tools built with CGO_ENABLED=0) and
 *   util-linux's unshare and mount, /bin/sh and chroot on the controller.
 * - "network": a new user and network namespace only (no network at all), for tools that are
 *   not static binaries or when mount namespaces are not available. The tool runs without
 *   capabilities, as the overflow user.
 * - "none": no namespaces (a Pod with seccomp RuntimeDefault forbids them, as do some hosts;
 *   FJORD_TOOL_SANDBOX=off turns them off). The other layers still hold on their own: private
 *   unguessable tree names, kustomize's root-only load restrictions, no git or proxy, the
 *   symlink check and the reference scan (see kustomize.ts and render.ts).
 */
import { execFile } from "node:child_process";
import { realpath, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { findOnPath } from "../util/executable.ts";
import { makePrivateTempDir } from "../util/private-temp.ts";
import { isStaticElf } from "./elf.ts";
import { isInside } from "./paths.ts";

const execFileAsync = promisify(execFile);

export type SandboxLevel = "chroot" | "network" | "none";

interface ChrootHelpers {
  sh: string;
  mount: string;
  mkdir: string;
  chroot: string;
  /** An empty directory; each sandbox mounts its own tmpfs on it, in its own mount namespace. */
  root: string;
  /** Whether the probe could remount a bind read-only on this file system. */
  readOnly: boolean;
}

interface Probe {
  /** Set when `unshare --user --net` works. */
  unshare?: string;
  chroot?: ChrootHelpers;
  /** Why a level is unavailable, for the log line. */
  reason?: string;
}

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Builds the tool's root inside the new mount namespace and runs the tool there. Every path
 * arrives as a positional parameter, never inside the script text. The read-only remount is
 * tried with the flags a user namespace may have to keep (nosuid, nodev, noexec); when none is
 * accepted the repository stays writable, which the tools (no plugins, no exec) never use.
 */
const SETUP_SCRIPT = `set -eu
mount=$1 mkdir=$2 chroot=$3 root=$4 repo=$5 home=$6 tool=$7 mode=$8
shift 8
"$mount" -t tmpfs -o mode=0755,size=1m fjord-sandbox "$root"
"$mkdir" -p "$root$repo" "$root$home" "$root/dev" "$root\${tool%/*}"
: > "$root/dev/null"
: > "$root$tool"
"$mount" --bind "$repo" "$root$repo"
access=ro
"$mount" -o remount,bind,ro "$root$repo" 2>/dev/null || "$mount" -o remount,bind,ro,nosuid,nodev "$root$repo" 2>/dev/null || "$mount" -o remount,bind,ro,nosuid,nodev,noexec "$root$repo" 2>/dev/null || access=rw
"$mount" --bind "$home" "$root$home"
"$mount" --bind "$tool" "$root$tool"
"$mount" --bind /dev/null "$root/dev/null"
if [ "$mode" = probe ]; then echo "$access"; exit 0; fi
exec "$chroot" "$root" "$tool" "$@"
`;

const CHROOT_NAMESPACES = ["--user", "--map-root-user", "--net", "--mount", "--propagation", "private", "--"];
const NETWORK_NAMESPACES = ["--user", "--net", "--"];

function failure(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  const text = typeof stderr === "string" && stderr.trim() !== "" ? stderr.trim() : error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!;
}

async function probeChroot(unshare: string, trueBinary: string): Promise<ChrootHelpers | string> {
  const sh = findOnPath("sh");
  const mount = findOnPath("mount");
  const mkdir = findOnPath("mkdir");
  const chroot = findOnPath("chroot");
  if (!sh || !mount || !mkdir || !chroot) return "sh, mount, mkdir or chroot is not on PATH";
  const root = await realpath(await makePrivateTempDir("sandbox-root", { emptyUntilExit: true }));
  const repo = await realpath(await makePrivateTempDir("sandbox-probe"));
  const home = await realpath(await makePrivateTempDir("sandbox-probe-home"));
  try {
    const tool = await realpath(trueBinary);
    const { stdout } = await execFileAsync(unshare, [...CHROOT_NAMESPACES, sh, "-c", SETUP_SCRIPT, "fjord-sandbox", mount, mkdir, chroot, root, repo, home, tool, "probe"], {
      timeout: PROBE_TIMEOUT_MS,
      env: { PATH: "/nonexistent" },
    });
    return { sh, mount, mkdir, chroot, root, readOnly: stdout.trim() === "ro" };
  } catch (error) {
    return `mount namespaces are not usable: ${failure(error)}`;
  } finally {
    await Promise.all([rm(repo, { recursive: true, force: true }), rm(home, { recursive: true, force: true })]);
  }
}

/** The operator's switch, read at every run so that it can be flipped without a restart of anything cached. */
function turnedOff(): boolean {
  return process.env.FJORD_TOOL_SANDBOX === "off";
}

async function probe(): Promise<Probe> {
  if (process.platform !== "linux") return { reason: `user namespaces are a Linux feature; this is ${process.platform}` };
  const unshare = findOnPath("unshare");
  const trueBinary = findOnPath("true");
  if (!unshare || !trueBinary) return { reason: "util-linux unshare (or true) is not on PATH" };
  try {
    await execFileAsync(unshare, [...NETWORK_NAMESPACES, trueBinary], { timeout: PROBE_TIMEOUT_MS, env: { PATH: "/nonexistent" } });
  } catch (error) {
    return { reason: `unprivileged user namespaces are not available: ${failure(error)}` };
  }
  const chroot = await probeChroot(unshare, trueBinary);
  return typeof chroot === "string" ? { unshare, reason: chroot } : { unshare, chroot };
}

let probed: Promise<Probe> | undefined;

function probeOnce(): Promise<Probe> {
  probed ??= probe();
  return probed;
}

/** One line for the controller's start-up log: which confinement render tools run under. */
export async function describeToolSandbox(): Promise<{ level: SandboxLevel; description: string }> {
  const found: Probe = turnedOff() ? { reason: "turned off by FJORD_TOOL_SANDBOX=off" } : await probeOnce();
  const always = "private unguessable tree names, kustomize root-only load restrictions, no git or proxy for kustomize, symlink and reference checks";
  if (found.chroot) {
    const access = found.chroot.readOnly ? "read-only" : "writable (this file system refused a read-only remount)";
    return {
      level: "chroot",
      description: `helm and kustomize run in user, network and mount namespaces: no network, a root holding only the repository (${access}), the tool and its scratch home; static tool binaries get the chroot, others the network namespace only; also ${always}`,
    };
  }
  if (found.unshare) {
    return { level: "network", description: `helm and kustomize run in user and network namespaces (no network); no chroot: ${found.reason ?? "unavailable"}; also ${always}` };
  }
  return { level: "none", description: `no namespace sandbox (${found.reason ?? "unavailable"}); confinement: ${always}` };
}

export interface SandboxRequest {
  /** Real absolute path of the tool. */
  binary: string;
  args: string[];
  /** Real path of the repository root: all the tool may read. */
  repo: string;
  /** Real path of the tool's scratch home: all it may write. */
  home: string;
  /** The tool needs the network (kustomize with remote bases allowed): no sandbox then. */
  network: boolean;
}

export interface SandboxedCommand {
  binary: string;
  args: string[];
  level: SandboxLevel;
}

const staticBinaries = new Map<string, Promise<boolean>>();

function isStatic(binary: string): Promise<boolean> {
  let found = staticBinaries.get(binary);
  if (!found) {
    found = isStaticElf(binary);
    staticBinaries.set(binary, found);
  }
  return found;
}

/** Paths that must each be bound into the root on their own: none may hold another. */
function nested(paths: readonly string[]): boolean {
  return paths.some((outer, i) => paths.some((inner, j) => i !== j && isInside(outer, inner)));
}

/** The command that runs `request` in the strongest sandbox available (or as it is, without one). */
export async function sandboxCommand(request: SandboxRequest): Promise<SandboxedCommand> {
  const plain = { binary: request.binary, args: request.args, level: "none" as const };
  if (request.network || turnedOff()) return plain;
  const found = await probeOnce();
  if (!found.unshare) return plain;
  const helpers = found.chroot;
  if (helpers && !nested([request.repo, request.home, request.binary, helpers.root]) && (await isStatic(request.binary))) {
    return {
      binary: found.unshare,
      args: [...CHROOT_NAMESPACES, helpers.sh, "-c", SETUP_SCRIPT, "fjord-sandbox", helpers.mount, helpers.mkdir, helpers.chroot, helpers.root, request.repo, request.home, request.binary, "run", ...request.args],
      level: "chroot",
    };
  }
  return { binary: found.unshare, args: [...NETWORK_NAMESPACES, request.binary, ...request.args], level: "network" };
}

/** `name` as an absolute real path: from PATH when it has no slash. Undefined when there is none. */
export async function resolveToolBinary(name: string): Promise<string | undefined> {
  const found = name.includes(path.sep) ? path.resolve(name) : findOnPath(name);
  if (!found) return undefined;
  try {
    return await realpath(found);
  } catch {
    return undefined;
  }
}
