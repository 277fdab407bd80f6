import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "./process-alive.ts";

const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 1000;

/** Holders in this process, per lock: each waits for the one before it, first come first served. */
const queues = new Map<string, Promise<void>>();

/**
 * A cross-process lock: a directory holding the owner's pid. The directory is prepared
 * beside the lock and renamed into place, so a lock never exists without its owner, and a
 * lock left by a killed process is taken over instead of blocking forever. Holders in the
 * same process queue in memory first, so they take turns in order and without polling.
 */
export async function withDirectoryLock<T>(lockDir: string, progress: (message: string) => void, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(lockDir);
  const previous = queues.get(key) ?? Promise.resolve();
  let release = () => {};
  const turn = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => turn);
  queues.set(key, tail);
  try {
    await previous;
    await acquire(lockDir, progress);
    try {
      return await fn();
    } finally {
      await rm(lockDir, { recursive: true, force: true });
    }
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function acquire(lockDir: string, progress: (message: string) => void): Promise<void> {
  let announced = false;
  // Short waits first: most holders (e.g. a fetch of an unchanged ref) are done within milliseconds.
  let pollMs = FIRST_POLL_MS;
  for (;;) {
    if (await tryTake(lockDir)) return;
    const owner = await ownerOf(lockDir);
    if (owner !== undefined && !isProcessAlive(owner)) {
      await breakStaleLock(lockDir, owner);
      continue;
    }
    if (!announced) {
      progress(`waiting for another fjord process (pid ${owner ?? "unknown"}) that holds ${lockDir}`);
      announced = true;
    }
    await sleep(pollMs);
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
}

async function tryTake(lockDir: string): Promise<boolean> {
  const staging = `${lockDir}.${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(path.dirname(lockDir), { recursive: true });
  await mkdir(staging);
  try {
    await writeFile(path.join(staging, "pid"), String(process.pid));
    await rename(staging, lockDir);
    return true;
  } catch (error) {
    // Renaming onto an existing, non-empty directory fails: someone else holds the lock.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function ownerOf(lockDir: string): Promise<number | undefined> {
  const pid = Number(await readFile(path.join(lockDir, "pid"), "utf8").catch(() => ""));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Moves the dead owner's lock aside before deleting it, so two waiters that both noticed the
 * death cannot both win: the second rename finds nothing. Should the moved lock turn out to be a
 * fresh one (taken by a third process in between), it is put back.
 */
async function breakStaleLock(lockDir: string, deadOwner: number): Promise<void> {
  const grave = `${lockDir}.stale-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockDir, grave);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if ((await ownerOf(grave)) !== deadOwner) {
    await rename(grave, lockDir).catch(() => undefined);
  }
  await rm(grave, { recursive: true, force: true });
}
