/**
 * What a render wants the user to know without failing: files it did not read. Warnings end
 * up on a terminal and in an Application's status, and file names come from Git, so every
 * name is escaped and cut, and a warning names a bounded number of them.
 */
import { displayName } from "../util/display-text.ts";

export type RenderWarningCode = "files-not-rendered";

export interface RenderWarning {
  code: RenderWarningCode;
  /** The file or directory it is about, relative to the repository ("." for its root). */
  file: string;
  /** Complete on its own: names the directory, the files and what to do. */
  message: string;
}

/** A warning names at most this many files, then says how many more there are. */
export const MAX_NAMED_FILES = 10;
/** Characters of one file name shown in a warning; a longer name is cut. */
export const MAX_SHOWN_NAME_CHARS = 200;

/**
 * Files a plain directory of manifests may hold without being rendered or named: documentation
 * (README.md, NOTES.txt) and licence or ownership files, which nobody expects to be applied.
 */
const DOCUMENTATION_EXTENSIONS = new Set([".md", ".markdown", ".txt", ".rst", ".adoc"]);
const DOCUMENTATION_NAMES = new Set(["LICENSE", "LICENCE", "COPYING", "NOTICE", "OWNERS", "CODEOWNERS", "AUTHORS"]);

export function isDocumentation(name: string): boolean {
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot).toLowerCase() : "";
  return DOCUMENTATION_EXTENSIONS.has(extension) || DOCUMENTATION_NAMES.has(name.toUpperCase());
}

/** Files seen and not rendered: how many, and the first few names (walk order). */
export interface UnrenderedFiles {
  count: number;
  names: string[];
}

export function noteUnrendered(files: UnrenderedFiles, name: string): void {
  files.count++;
  if (files.names.length < MAX_NAMED_FILES) files.names.push(name);
}

/** A file name from Git as it may be shown to a person. */
export function showFileName(name: string): string {
  return displayName(name, MAX_SHOWN_NAME_CHARS);
}

/** One warning for every file of a plain directory that was not rendered, or none. */
export function unrenderedFilesWarning(directory: string, files: UnrenderedFiles): RenderWarning | undefined {
  if (files.count === 0) return undefined;
  const where = directory === "." ? "the rendered directory" : showFileName(directory);
  const more = files.count > files.names.length ? ` and ${files.count - files.names.length} more` : "";
  const count = files.count === 1 ? "1 file" : `${files.count} files`;
  return {
    code: "files-not-rendered",
    file: directory,
    message:
      `${count} in ${where} ${files.count === 1 ? "is" : "are"} not rendered (a plain directory is read for .yaml, .yml and .json files only): ` +
      `${files.names.map(showFileName).join(", ")}${more}; ` +
      "commit their output as YAML, use a kustomization or chart, or add them to the ignore patterns",
  };
}
