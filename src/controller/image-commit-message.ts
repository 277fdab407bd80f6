/**
 * Commit messages of image update automations. Flux uses Go templates; fjord takes a small,
 * closed set of placeholders instead, so a typo is an error at the next run rather than a
 * template engine's silent empty string:
 *
 * - `{{changes}}`    one line per change: `- <file>:<line>: <old> -> <new>`
 * - `{{policies}}`   the policies (or Flux v1 workloads) that changed something, comma-separated
 * - `{{files}}`      the changed files, comma-separated
 * - `{{count}}`      the number of changes
 * - `{{automation}}` `<namespace>/<name>` of the ImageUpdateAutomation
 */
import type { ImageChange } from "../image/update/index.ts";

export const DEFAULT_MESSAGE_TEMPLATE = "Update images\n\n{{changes}}\n\nAutomation: {{automation}}";

const PLACEHOLDERS = ["changes", "policies", "files", "count", "automation"] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/** Why a template cannot be used, or undefined. */
export function checkMessageTemplate(template: string): string | undefined {
  const unknown = [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((match) => match[1] ?? "").filter((name) => !PLACEHOLDERS.includes(name as Placeholder));
  if (unknown.length > 0) {
    return `messageTemplate uses unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((name) => `{{${name}}}`).join(", ")}; known: ${PLACEHOLDERS.map((name) => `{{${name}}}`).join(", ")}`;
  }
  if (template.trim() === "") return "messageTemplate is empty";
  return undefined;
}

export function describeChange(change: ImageChange): string {
  return `${change.file}:${change.line}: ${change.old} -> ${change.new}`;
}

export function renderCommitMessage(template: string | undefined, context: { automation: string; changes: readonly ImageChange[] }): string {
  const unique = (values: string[]) => [...new Set(values)];
  const values: Record<Placeholder, string> = {
    changes: context.changes.map((change) => `- ${describeChange(change)}`).join("\n"),
    policies: unique(context.changes.map((change) => change.policy)).join(", "),
    files: unique(context.changes.map((change) => change.file)).join(", "),
    count: String(context.changes.length),
    automation: context.automation,
  };
  return (template || DEFAULT_MESSAGE_TEMPLATE).replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, name: string) => values[name as Placeholder] ?? whole);
}
