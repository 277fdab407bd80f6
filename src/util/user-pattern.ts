/**
 * The one place where a pattern written by a user (a CRD field, a SOPS file, an annotation, an
 * ignore file) becomes something that matches. Patterns run on re2js, a port of RE2: matching
 * takes time linear in the input (no backtracking, so `^(a+)+$` cannot hang the event loop) and
 * the syntax is Go's, so a pattern means here what it means in Flux and sops. Sizes are bounded
 * before anything is compiled, so a hostile pattern costs milliseconds, never seconds.
 *
 * Nothing else in fjord may hand user text to `new RegExp` (an ESLint rule enforces it).
 */
import { RE2JS, RE2JSException } from "re2js";
import { measurePattern } from "./pattern-size.ts";

export const USER_PATTERN_LIMITS = {
  /** Characters in one pattern. */
  maxLength: 1024,
  /**
   * Instructions of the compiled program. Matching costs input length x program size at worst
   * (RE2's guarantee), so this bounds the time per character; `npm run bench -- patterns`
   * prints the slowest cases. Patterns people write for Flux and sops use 15 to 100
   * (`^[a-f0-9]{64}$` is 68, a list of twelve key names 94).
   */
  maxInstructions: 250,
  /**
   * The bound read from the text before compiling (see pattern-size.ts), which over-counts
   * about threefold: above it the compiler is not even started, which keeps compiling a hostile
   * pattern to a few milliseconds.
   */
  maxEstimatedInstructions: 1000,
  /** Unicode classes (`\pL`, `\p{Greek}`) named in one pattern: each is a large table to build. */
  maxUnicodeClasses: 16,
} as const;

const SIMPLIFY = "simplify it (counted repetitions such as {500} are the usual cause: use + or * instead)";

/** The pattern cannot be used; the message names the problem (never the caller's field: the caller adds it). */
export class UserPatternError extends Error {
  override readonly name = "UserPatternError";
}

export interface PatternMatch {
  /** A numbered group (0 is the whole match); undefined when it did not take part in the match. */
  group(index: number): string | undefined;
  /** A named group (`(?P<name>...)`); undefined when there is no such group or it did not take part. */
  named(name: string): string | undefined;
}

export interface UserPattern {
  readonly source: string;
  /** Number of capturing groups, as Go's NumSubexp. */
  readonly groupCount: number;
  readonly groupNames: ReadonlySet<string>;
  /** Whether the pattern matches anywhere in the input, as Go's MatchString (anchor it with ^...$ to match all of it). */
  test(input: string): boolean;
  /** The leftmost-first match with its groups, as Go's FindStringSubmatch. */
  exec(input: string): PatternMatch | null;
}

export interface PatternOptions {
  /** `.` also matches a newline, as `(?s)`. */
  dotAll?: boolean;
  /**
   * For a pattern translated from user text (a glob), whose translation is longer than the text:
   * the caller has checked the text against the limit; the program size is still bounded.
   */
  translated?: boolean;
}

/**
 * Compiles a user's pattern (Go RE2 syntax: `(?P<name>...)`, `(?i)` anywhere, `\z`, `[[:digit:]]`;
 * no backreferences or lookaround). Throws UserPatternError saying what is wrong and how to fix it.
 */
export function compileUserPattern(source: string, options: PatternOptions = {}): UserPattern {
  const { maxLength, maxInstructions, maxEstimatedInstructions, maxUnicodeClasses } = USER_PATTERN_LIMITS;
  if (!options.translated && source.length > maxLength) {
    throw new UserPatternError(`is ${source.length} characters long, more than the limit of ${maxLength}`);
  }
  const size = measurePattern(source);
  if (size.unicodeClasses > maxUnicodeClasses) {
    throw new UserPatternError(`names ${size.unicodeClasses} Unicode classes (\\p...), more than the limit of ${maxUnicodeClasses}; combine them into one class such as [\\pL\\pN]`);
  }
  if (size.instructions > maxEstimatedInstructions) {
    throw new UserPatternError(
      `is too large: it would compile to more than ${maxInstructions} instructions; ${SIMPLIFY}`,
    );
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, options.dotAll ? RE2JS.DOTALL : 0);
  } catch (error) {
    if (error instanceof RE2JSException) throw new UserPatternError(describeSyntaxError(source, error.message));
    throw error;
  }
  const instructions = compiled.programSize();
  if (instructions > maxInstructions) {
    throw new UserPatternError(
      `is too large: it compiles to ${instructions} instructions, more than the limit of ${maxInstructions}; ${SIMPLIFY}`,
    );
  }
  const namedGroups = compiled.namedGroups();
  return {
    source,
    groupCount: compiled.groupCount(),
    groupNames: new Set(Object.keys(namedGroups)),
    test: (input) => compiled.test(input),
    exec(input) {
      // re2js mirrors JS's RegExpExecArray: index per group, `groups` by name.
      const match = compiled.exec(input) as (Array<string | undefined> & { groups?: Record<string, string | undefined> }) | null;
      if (!match) return null;
      return {
        group: (index) => match[index] ?? undefined,
        named: (name) => match.groups?.[name] ?? undefined,
      };
    },
  };
}

/** The pattern that matches `literal` and nothing else (Go's QuoteMeta). */
export function quotePattern(literal: string): string {
  return RE2JS.quote(literal);
}

/** A pattern for a message: quoted, and shortened when long so a huge one does not flood a status. */
export function describePattern(source: string): string {
  const shown = 80;
  return source.length <= shown ? JSON.stringify(source) : `${JSON.stringify(source.slice(0, shown))}... (${source.length} characters)`;
}

/**
 * re2js words its errors as Go does (`missing closing ): ...`); patterns written for JavaScript
 * engines most often trip over what RE2 leaves out on purpose, so those get a hint.
 */
function describeSyntaxError(source: string, message: string): string {
  const problem = message.replace(/^error parsing regexp: /, "");
  if (/\(\?<?[=!]/.test(source)) {
    return `${problem}; lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported: patterns use Go's RE2 syntax, as in Flux`;
  }
  if (/invalid escape sequence: `\\[1-9]/.test(problem)) {
    return `${problem}; backreferences (\\1) are not supported: patterns use Go's RE2 syntax, as in Flux`;
  }
  return problem;
}
