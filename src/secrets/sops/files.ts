/** File-level helpers over the pure document functions: read, detect the format, decrypt, replace. */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadAgeIdentitiesFromEnvironment } from "./age-keys.ts";
import { decryptContent, formatForPath, type SopsFormat } from "./document.ts";
import { SopsError } from "./errors.ts";

export interface DecryptFileOptions {
  /** Default: from the file name, like sops. */
  format?: SopsFormat;
  outputFormat?: SopsFormat;
  /** Default: what sops would use (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, the default key file). */
  identities?: readonly string[];
  /** The name used in errors; default: the path. */
  fileName?: string;
}

/** The decrypted content of a SOPS file (bytes: a binary file need not be text). */
export async function decryptFile(file: string, options: DecryptFileOptions = {}): Promise<Buffer> {
  const fileName = options.fileName ?? file;
  const content = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new SopsError("invalid-file", fileName, `cannot be read (${error.code ?? error.message})`);
  });
  const format = options.format ?? formatForPath(file);
  const identities = options.identities ?? (await loadAgeIdentitiesFromEnvironment()).identities;
  return decryptContent(content, { format, identities, fileName, ...(options.outputFormat ? { outputFormat: options.outputFormat } : {}) });
}

/**
 * Replaces a file in one step (write beside it, then rename), keeping its mode, so a crash
 * never leaves half a secret file behind.
 */
export async function replaceFile(file: string, content: Uint8Array): Promise<void> {
  const mode = await stat(file).then((info) => info.mode & 0o777, () => 0o644);
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, content, { mode, flag: "wx" });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
