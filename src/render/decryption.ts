import { chmod, cp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { formatBytes, MAX_FILE_BYTES } from "../input/limits.ts";
import { FileTooLargeError, readBoundedFile } from "../input/read-file.ts";
import { makePrivateTempDir } from "../util/private-temp.ts";
import { describeRef, refOf, type RenderedObject } from "../model/object.ts";
import { decryptContent, formatForPath, isSopsDocument, SopsError } from "../secrets/sops/index.ts";
import { filesReadByRender } from "./decryption-files.ts";
import { RenderError } from "./errors.ts";
import { relativeToRoot, resolveRenderDirectory } from "./paths.ts";

export interface DecryptionSettings {
  /** age identities (`AGE-SECRET-KEY-1...`) that may open the repository's SOPS files. */
  identities: string[];
}

const KEYS_FIX = "give age identities: --decryption-key-file (or SOPS_AGE_KEY_FILE / SOPS_AGE_KEY) for the CLI, spec.decryption for an Application";

interface EncryptedFile {
  real: string;
  content: Buffer;
}

async function encryptedFiles(rootReal: string, files: readonly string[]): Promise<EncryptedFile[]> {
  const found: EncryptedFile[] = [];
  for (const real of files) {
    const content = await readBoundedFile(real, MAX_FILE_BYTES).catch((error: unknown) => {
      if (!(error instanceof FileTooLargeError)) throw error;
      throw new RenderError("limit-exceeded", `file is ${formatBytes(error.size)}; fjord reads files of at most ${formatBytes(MAX_FILE_BYTES)}`, { file: relativeToRoot(rootReal, real), fix: "split it into several files" });
    });
    if (isSopsDocument(content, formatForPath(real))) found.push({ real, content });
  }
  return found;
}

async function decryptInto(copy: string, rootReal: string, file: EncryptedFile, identities: readonly string[]): Promise<void> {
  const relative = relativeToRoot(rootReal, file.real);
  const plaintext = await decryptContent(file.content, { format: formatForPath(file.real), identities, fileName: relative }).catch((error: unknown) => {
    if (error instanceof SopsError) throw new RenderError("decryption-failed", `cannot decrypt: ${error.problem}`, { file: relative, ...(error.fix ? { fix: error.fix } : {}) });
    throw error;
  });
  const target = path.join(copy, path.relative(rootReal, file.real));
  await writeFile(target, plaintext);
  await chmod(target, 0o600);
}

/**
 * Runs a render on a checkout whose SOPS files are decrypted. Plaintext never lands in the
 * checkout (a shared cache): when a file the render reads is encrypted, the checkout is copied
 * to a private temporary directory, decrypted there, rendered from there and removed. Without
 * encrypted files the render runs on the checkout itself.
 */
export async function withDecryptedSources<T>(
  input: { root: string; path: string; ignore: readonly string[]; decryption: DecryptionSettings },
  body: (root: string) => Promise<T>,
): Promise<T> {
  const dir = await resolveRenderDirectory(input.root, input.path);
  const encrypted = await encryptedFiles(dir.rootReal, await filesReadByRender(dir, input.ignore));
  if (encrypted.length === 0) return body(input.root);
  const scratch = await makePrivateTempDir("decrypted");
  try {
    await chmod(scratch, 0o700);
    const copy = path.join(scratch, "repo");
    const gitDir = path.join(dir.rootReal, ".git");
    await cp(dir.rootReal, copy, { recursive: true, verbatimSymlinks: true, filter: (source) => source !== gitDir });
    for (const file of encrypted) await decryptInto(copy, dir.rootReal, file, input.decryption.identities);
    return await body(copy);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** sops metadata on an object, or sops_* keys a kustomize generator copied from an encrypted dotenv file. */
function encryptedPart(object: Record<string, unknown>): string | undefined {
  const sops = object.sops;
  if (isRecord(sops) && ("mac" in sops || "lastmodified" in sops)) return "carries SOPS metadata";
  for (const field of ["data", "stringData"]) {
    const data = object[field];
    if (isRecord(data) && "sops_mac" in data) return `has ${field} generated from a SOPS-encrypted dotenv file`;
  }
  return undefined;
}

/**
 * Refuses rendered objects that are still SOPS-encrypted: applying them would store ciphertext
 * (and a useless `sops` field) in the cluster instead of the secret.
 */
export function assertNoEncryptedObjects(objects: readonly RenderedObject[], keysGiven: boolean): void {
  for (const { object, source } of objects) {
    const part = encryptedPart(object);
    if (!part) continue;
    const what = `${describeRef(refOf(object))} ${part}`;
    throw new RenderError(
      "decryption-failed",
      keysGiven ? `${what}, which fjord did not decrypt: only files the render reads directly are decrypted` : `${what}, and no decryption keys were given: fjord does not apply ciphertext`,
      {
        file: source.file,
        ...(source.line !== undefined ? { line: source.line } : {}),
        fix: keysGiven ? "refer to the encrypted file from the kustomization (resources, patches or generator files)" : KEYS_FIX,
      },
    );
  }
}
