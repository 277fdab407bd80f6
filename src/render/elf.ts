import { open } from "node:fs/promises";

const PT_INTERP = 3;
/** Program headers sit right after the ELF header in every linker's output; this is plenty. */
const HEADER_BYTES = 64 * 1024;

/**
 * Whether `file` is an ELF executable that needs no dynamic loader (no PT_INTERP header), so
 * it can run in a root that holds nothing but itself. Go tools built with CGO_ENABLED=0 are.
 * Anything else (a script, a dynamically linked binary, an unreadable file) is not.
 */
export async function isStaticElf(file: string): Promise<boolean> {
  let bytes: Buffer;
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
      bytes = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = bytes[4] === 2;
  const littleEndian = bytes[5] === 1;
  const u16 = (at: number) => (littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const phoff = is64 ? Number(littleEndian ? bytes.readBigUInt64LE(0x20) : bytes.readBigUInt64BE(0x20)) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  if (phnum === 0 || phoff + phnum * phentsize > bytes.length) return false;
  for (let index = 0; index < phnum; index++) {
    if (u32(phoff + index * phentsize) === PT_INTERP) return false;
  }
  return true;
}
