/**
 * gitignore-style patterns, enough for choosing which manifests to skip: `*`, `?`, `[...]`,
 * `**`, a trailing `/` for directories only, a `/` inside the pattern to anchor it to the
 * rendered directory, and `!` to take a path back. (minimatch is not a dependency, and
 * gitignore's rules differ from minimatch's anyway.) Each line becomes an RE2 pattern, so
 * matching takes time linear in the path whatever the line holds (`*a*a*a*a*a*b`).
 */
import { compileUserPattern, describePattern, quotePattern, USER_PATTERN_LIMITS, UserPatternError, type UserPattern } from "../util/user-pattern.ts";

/** A line that cannot be used; the message names the line and the problem. */
export class IgnorePatternError extends Error {
  override readonly name = "IgnorePatternError";

  constructor(
    message: string,
    /** The line's number (from 1) among the patterns given to compileIgnorePatterns. */
    readonly line?: number,
  ) {
    super(message);
  }
}

interface CompiledPattern {
  regex: UserPattern;
  negated: boolean;
  directoryOnly: boolean;
}

export interface IgnoreMatcher {
  /** `relativePath` uses forward slashes and is relative to the rendered directory. */
  ignores(relativePath: string, isDirectory: boolean): boolean;
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
    else if (char === "\\" && i + 1 < glob.length) out += quotePattern(glob[++i]!);
    else if (char === "[") {
      const close = bracketEnd(glob, i);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else out += quotePattern(char);
  }
  return out;
}

/** Index of the `]` closing the bracket expression at `open`, or -1; `[:digit:]` inside it is one unit. */
function bracketEnd(glob: string, open: number): number {
  let i = open + 1;
  if (glob[i] === "!" || glob[i] === "^") i++;
  // A `]` right after the opening bracket is a member, not the end.
  if (glob[i] === "]") i++;
  while (i < glob.length) {
    if (glob[i] === "]") return i;
    if (glob[i] === "[" && glob[i + 1] === ":") {
      const named = glob.indexOf(":]", i + 2);
      if (named >= 0) {
        i = named + 2;
        continue;
      }
    }
    i++;
  }
  return -1;
}

function compile(line: string): CompiledPattern | undefined {
  const { maxLength } = USER_PATTERN_LIMITS;
  if (line.length > maxLength) throw new IgnorePatternError(`ignore pattern ${describePattern(line)} is ${line.length} characters long, more than the limit of ${maxLength}`);
  let pattern = withoutTrailingSpace(line);
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
  try {
    return { regex: compileUserPattern(anchored ? `^${body}$` : `^(?:.*/)?${body}$`, { translated: true }), negated, directoryOnly };
  } catch (error) {
    if (error instanceof UserPatternError) throw new IgnorePatternError(`ignore pattern ${describePattern(line)} cannot be used: ${error.message}`);
    throw error;
  }
}

/** Trailing whitespace is dropped unless a backslash escapes it, as git does. */
function withoutTrailingSpace(line: string): string {
  let end = line.length;
  while (end > 0 && /\s/.test(line[end - 1]!) && line[end - 2] !== "\\") end--;
  return line.slice(0, end);
}

export function compileIgnorePatterns(patterns: readonly string[]): IgnoreMatcher {
  const compiled = patterns
    .map((line, index) => {
      try {
        return compile(line);
      } catch (error) {
        if (error instanceof IgnorePatternError) throw new IgnorePatternError(error.message, index + 1);
        throw error;
      }
    })
    .filter((pattern) => pattern !== undefined);
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
