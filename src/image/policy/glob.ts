import { compileUserPattern, quotePattern, USER_PATTERN_LIMITS, UserPatternError, type UserPattern } from "../../util/user-pattern.ts";

/**
 * A tag glob as Flux v1 and the `glob` policy field write it, as an RE2 pattern: `*` is any run
 * of characters, `?` one character, everything else literal, and the whole tag must match.
 * Written in Go's syntax so that `fjord migrate` can hand it to Flux as a filterTags.pattern.
 */
export function globToPattern(glob: string): string {
  let source = "";
  let literal = "";
  for (const char of glob) {
    if (char !== "*" && char !== "?") {
      literal += char;
      continue;
    }
    source += quotePattern(literal) + (char === "*" ? ".*" : ".");
    literal = "";
  }
  return `^${source}${quotePattern(literal)}$`;
}

/** The compiled glob; RE2 matches it in time linear in the tag, whatever the stars (`*a*a*a*b`). */
export function compileGlob(glob: string): UserPattern {
  const { maxLength } = USER_PATTERN_LIMITS;
  if (glob.length > maxLength) throw new UserPatternError(`is ${glob.length} characters long, more than the limit of ${maxLength}`);
  return compileUserPattern(globToPattern(glob), { dotAll: true, translated: true });
}
