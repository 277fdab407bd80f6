import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isStaticElf } from "./elf.ts";

/** A minimal 64-bit little-endian ELF header with the given program header types. */
function elf64(types: number[]): Buffer {
  const phoff = 64;
  const bytes = Buffer.alloc(phoff + types.length * 56);
  bytes.writeUInt32BE(0x7f454c46, 0);
  bytes[4] = 2; // 64-bit
  bytes[5] = 1; // little-endian
  bytes.writeBigUInt64LE(BigInt(phoff), 0x20);
  bytes.writeUInt16LE(56, 0x36);
  bytes.writeUInt16LE(types.length, 0x38);
  types.forEach((type, index) => bytes.writeUInt32LE(type, phoff + index * 56));
  return bytes;
}

test("only ELF executables without an interpreter count as static", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-elf-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = (name: string, content: Buffer | string) => writeFile(path.join(dir, name), content).then(() => path.join(dir, name));
  assert.equal(await isStaticElf(await file("static", elf64([6, 1, 1]))), true);
  assert.equal(await isStaticElf(await file("dynamic", elf64([6, 3, 1]))), false);
  assert.equal(await isStaticElf(await file("script", "#!/bin/sh\necho hi\n")), false);
  assert.equal(await isStaticElf(await file("truncated", elf64([1]).subarray(0, 60))), false);
  assert.equal(await isStaticElf(path.join(dir, "missing")), false);
  // Node itself is linked dynamically on every platform fjord supports.
  assert.equal(await isStaticElf(process.execPath), false);
});
