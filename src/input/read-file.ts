import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { formatBytes } from "./limits.ts";

/** A file larger than the caller accepts; nothing of it was kept. */
export class FileTooLargeError extends Error {
  override readonly name = "FileTooLargeError";

  constructor(
    readonly file: string,
    /** At least this many bytes (exact when the file's size was known up front). */
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${file} is ${formatBytes(size)}; the limit is ${formatBytes(limit)}`);
  }
}

const CHUNK_BYTES = 64 * 1024;

/**
 * A file's content, refused without being read when it is larger than `maxBytes`. Reads at most
 * `maxBytes + 1` bytes whatever the file claims, so one that grows meanwhile, or a device that
 * reports no size (/dev/zero), is refused too.
 */
export async function readBoundedFile(file: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new FileTooLargeError(file, size, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // The whole file in one read when its size is known; devices and growing files in chunks.
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(CHUNK_BYTES, size + 1 - total), maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(file, total, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

export async function readBoundedText(file: string, maxBytes: number): Promise<string> {
  return (await readBoundedFile(file, maxBytes)).toString("utf8");
}

/** readBoundedFile for synchronous callers (kubeconfig loading). */
export function readBoundedTextSync(file: string, maxBytes: number): string {
  const fd = openSync(file, "r");
  try {
    const { size } = fstatSync(fd);
    if (size > maxBytes) throw new FileTooLargeError(file, size, maxBytes);
    const buffer = Buffer.allocUnsafe(maxBytes + 1);
    let total = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, total, Math.min(Math.max(CHUNK_BYTES, size + 1 - total), maxBytes + 1 - total), null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(file, total, maxBytes);
    }
    return buffer.toString("utf8", 0, total);
  } finally {
    closeSync(fd);
  }
}
