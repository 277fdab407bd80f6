/**
 * `sops edit` for fjord: decrypt to a private temporary file, run the user's editor on it,
 * encrypt the result with the same data key and recipients. The plaintext lives only in a
 * 0700 directory that is removed whatever happens; an edit that does not parse is not written.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { emitPlain, openSopsDocument, reencryptDocument, type SopsFormat } from "./document.ts";
import { SopsError } from "./errors.ts";
import { replaceFile } from "./files.ts";

/** The editor sops would start: $SOPS_EDITOR, else $EDITOR, else vi. */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  return env.SOPS_EDITOR || env.EDITOR || "vi";
}

/** Runs the editor through the shell, so `EDITOR="code --wait"` works as it does for git. */
function runEditor(editor: string, file: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", `${editor} "$1"`, "fjord-editor", file], { stdio: "inherit", env });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`the editor (${editor}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; the file was not changed`));
    });
  });
}

export interface EditOptions {
  file: string;
  format: SopsFormat;
  identities: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export async function editSopsFile(options: EditOptions): Promise<"saved" | "unchanged"> {
  const env = options.env ?? process.env;
  const content = await readFile(options.file).catch((error: NodeJS.ErrnoException) => {
    throw new SopsError("invalid-file", options.file, `cannot be read (${error.code ?? error.message})`, "create the file with `fjord secrets encrypt` first");
  });
  const document = await openSopsDocument(content, { format: options.format, identities: options.identities, fileName: options.file });
  const plaintext = emitPlain(document.branches, options.format);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "fjord-edit-"));
  try {
    const draft = path.join(scratch, path.basename(options.file));
    await writeFile(draft, plaintext, { mode: 0o600 });
    await runEditor(editorCommand(env), draft, env);
    const edited = await readFile(draft);
    if (edited.equals(plaintext)) return "unchanged";
    let encrypted: Buffer;
    try {
      encrypted = reencryptDocument(document, edited, options.file);
    } catch (error) {
      if (error instanceof SopsError) throw new SopsError(error.code, error.file, `the edited file is not valid ${options.format}, so nothing was written: ${error.problem}`, "run the edit again and fix the syntax");
      throw error;
    }
    await replaceFile(options.file, encrypted);
    return "saved";
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
