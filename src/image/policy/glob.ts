/**
 * A tag glob as Flux v1 and the `glob` policy field write it: `*` is any run of characters, `?`
 * one character, everything else literal. The whole tag must match.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const char of glob) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += char.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}
