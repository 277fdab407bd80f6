/**
 * gitignore-style patterns, enough for choosing which manifests to skip: `*`, `?`, `[...]`,
 * `**`, a trailing `/` for directories only, a `/` inside the pattern to anchor it to the
 * rendered directory, and `!` to take a path back. (minimatch is not a dependency, and
 * gitignore's rules differ from minimatch's anyway.)
 */

interface CompiledPattern {
  regex: RegExp;
  negated: boolean;
  directoryOnly: boolean;
}

export interface IgnoreMatcher {
  /** `relativePath` uses forward slashes and is relative to the rendered directory. */
  ignores(relativePath: string, isDirectory: boolean): boolean;
}

function escapeRegex(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

/** Translates one glob (already stripped of `!`, anchors and trailing `/`) into a regex body. */
function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      const atStart = i === 0 || glob[i - 1] === "/";
      const atEnd = i + 2 === glob.length || glob[i + 2] === "/";
      if (atStart && atEnd) {
        // `**/` matches zero or more whole directories; a final `**` matches everything below.
        if (i + 2 === glob.length) out += ".*";
        else out += "(?:.*/)?";
        i += 2; // also skips the slash after `**`
        continue;
      }
    }
    if (char === "*") out += "[^/]*";
    else if (char === "?") out += "[^/]";
    else if (char === "\\" && i + 1 < glob.length) out += escapeRegex(glob[++i]!);
    else if (char === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else out += escapeRegex(char);
  }
  return out;
}

function compile(line: string): CompiledPattern | undefined {
  let pattern = line.replace(/(?<!\\)\s+$/, "");
  if (pattern === "" || pattern.startsWith("#")) return undefined;
  const negated = pattern.startsWith("!");
  if (negated) pattern = pattern.slice(1);
  const directoryOnly = pattern.endsWith("/");
  if (directoryOnly) pattern = pattern.slice(0, -1);
  // As in gitignore, a slash anywhere but the end ties the pattern to the top directory.
  const anchored = pattern.includes("/");
  if (pattern.startsWith("/")) pattern = pattern.slice(1);
  if (pattern === "") return undefined;
  const body = globToRegex(pattern);
  return { regex: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`), negated, directoryOnly };
}

export function compileIgnorePatterns(patterns: readonly string[]): IgnoreMatcher {
  const compiled = patterns.map(compile).filter((pattern) => pattern !== undefined);
  return {
    ignores(relativePath, isDirectory) {
      let ignored = false;
      for (const pattern of compiled) {
        if (pattern.directoryOnly && !isDirectory) continue;
        if (pattern.regex.test(relativePath)) ignored = !pattern.negated;
      }
      return ignored;
    },
  };
}
