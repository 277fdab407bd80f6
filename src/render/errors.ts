/**
 * Every way rendering can fail, as a stable code callers can branch on. The message always
 * says where (file and line, relative to the repository), what, and what the user can do,
 * because a GitOps error is read by someone looking at a Git repository, not at fjord.
 */
import { displayName, displayText } from "../util/display-text.ts";

export type RenderErrorCode =
  | "path-missing"
  | "path-outside-root"
  | "yaml-syntax"
  | "yaml-value"
  | "not-an-object"
  | "nested-package"
  | "duplicate"
  | "remote-base"
  | "tool-config"
  | "helm-settings"
  | "kustomize-failed"
  | "helm-failed"
  | "binary-missing"
  | "decryption-failed"
  | "limit-exceeded";

export interface RenderErrorDetails {
  /** Relative to the repository root. */
  file?: string;
  line?: number;
  column?: number;
  /** What the user can do about it. */
  fix?: string;
  /** Verbatim output of a failed tool, shown below the summary. */
  output?: string;
}

export class RenderError extends Error {
  override readonly name = "RenderError";
  readonly code: RenderErrorCode;
  readonly problem: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly fix?: string;

  constructor(code: RenderErrorCode, problem: string, details: RenderErrorDetails = {}) {
    super(formatMessage(problem, details));
    this.code = code;
    this.problem = problem;
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
    if (details.fix !== undefined) this.fix = details.fix;
  }
}

/** Files, problems and tool output often quote names from Git: nothing in them may rewrite a terminal or a status line. */
function formatMessage(problem: string, details: RenderErrorDetails): string {
  let where = displayName(details.file ?? "");
  if (where && details.line !== undefined) {
    where += `:${details.line}`;
    if (details.column !== undefined) where += `:${details.column}`;
  }
  const shown = displayText(problem);
  const lines = [where ? `${where}: ${shown}` : shown];
  if (details.output) lines.push(...details.output.split("\n").map((line) => `  | ${displayText(line)}`));
  if (details.fix) lines.push(`  fix: ${details.fix}`);
  return lines.join("\n");
}
