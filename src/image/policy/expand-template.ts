import type { PatternMatch } from "../../util/user-pattern.ts";

/** `$name`, `${name}` or `$$`, as Go's Regexp.Expand reads a template. */
const REFERENCE = /\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;

/**
 * Expands a template the way Go's Regexp.Expand does: `$name` takes the longest run of letters,
 * digits and underscores (so `$1x` means group "1x"), `${name}` delimits it, `$$` is a dollar,
 * a group that does not exist or did not take part in the match expands to nothing, and a
 * malformed reference (`$-`, a final `$`) is literal text.
 */
export function expandTemplate(template: string, match: PatternMatch): string {
  return template.replace(REFERENCE, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === "$$") return "$";
    return groupValue(braced ?? bare ?? "", match);
  });
}

/** The group names and numbers a template refers to, in order. */
export function templateReferences(template: string): string[] {
  return [...template.matchAll(REFERENCE)].filter((reference) => reference[0] !== "$$").map((reference) => reference[1] ?? reference[2] ?? "");
}

function groupValue(name: string, match: PatternMatch): string {
  return (/^\d+$/.test(name) ? match.group(Number(name)) : match.named(name)) ?? "";
}
