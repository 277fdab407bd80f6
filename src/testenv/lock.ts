import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "../util/process-alive.ts";

/**
 * A cross-process lock built on atomic mkdir. The owner's pid is recorded so a lock left by
 * a killed process is taken over instead of blocking forever.
 */
export async function withDirectoryLock<T>(lockDir: string, progress: (message: string) => void, fn: () => Promise<T>): Promise<T> {
  const ownerFile = path.join(lockDir, "pid");
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(ownerFile, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(await readFile(ownerFile, "utf8").catch(() => ""));
      if (owner && !isProcessAlive(owner)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        progress(`waiting for another fjord process (pid ${owner || "unknown"}) that holds ${lockDir}`);
        announced = true;
      }
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
