/**
 * What a pattern will cost to compile, read from the text alone, before any compiler runs: an
 * upper bound on the number of instructions RE2 compiles it into, and how many Unicode classes
 * (`\pL`, `\p{Greek}`, `\PN`) it names. RE2 expands counted repetitions (`x{500}` becomes 500 copies
 * of x), so a pattern of a few hundred characters can compile to a program of a hundred thousand
 * instructions, which takes seconds to build and makes every match slow. The bound over-counts
 * on purpose (every group, quantifier and alternative is charged its worst case) and never
 * under-counts; a property test checks it against the real compiler.
 *
 * Each Unicode class is a table of hundreds of ranges, built (and case-folded under `(?i)`) where
 * it is written, so a pattern naming hundreds of them takes long to compile though it is small.
 *
 * Syntax the compiler refuses anyway (an unclosed group, a quantifier with nothing before it)
 * is counted leniently here: the compiler reports it after this check has passed.
 */

/** Sizes saturate here, far above any limit, so that nested counts cannot overflow. */
const SATURATED = 1e12;

interface Frame {
  /** Finished alternatives of this group, with one instruction each for the branching. */
  alternatives: number;
  /** The concatenation being read. */
  current: number;
  /** The last unit of `current`, which a following quantifier applies to. */
  last: number;
}

const FLAG_GROUP = /^\(\?[imsU-]*\)/;
const COUNTED_REPEAT = /^\{(\d+)(,(\d*))?\}/;

export interface PatternSize {
  /** At least as many instructions as the compiled program has. */
  instructions: number;
  /** `\p` and `\P` escapes, inside classes or not. */
  unicodeClasses: number;
}

/** Just the instruction bound. */
export function estimateProgramSize(pattern: string): number {
  return measurePattern(pattern).instructions;
}

export function measurePattern(pattern: string): PatternSize {
  let unicodeClasses = 0;
  const countEscape = (at: number) => {
    if (pattern[at + 1] === "p" || pattern[at + 1] === "P") unicodeClasses++;
    return skipEscape(pattern, at);
  };
  const stack: Frame[] = [{ alternatives: 0, current: 0, last: 0 }];
  const top = () => stack[stack.length - 1]!;
  const atom = (size: number) => {
    const frame = top();
    frame.current = Math.min(SATURATED, frame.current + size);
    frame.last = size;
  };
  const quantify = (copies: number) => {
    const frame = top();
    // n copies of the unit plus the branch instructions RE2 puts around each optional one.
    const repeated = Math.min(SATURATED, (frame.last + 2) * (copies + 1));
    frame.current = Math.min(SATURATED, frame.current - frame.last + repeated);
    frame.last = repeated;
  };

  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i]!;
    const rest = () => pattern.slice(i, i + 32);
    if (char === "\\") {
      if (pattern[i + 1] === "Q") {
        // \Q...\E: every character up to \E (or the end) is a literal.
        const end = pattern.indexOf("\\E", i + 2);
        const stop = end < 0 ? pattern.length : end;
        for (let j = i + 2; j < stop; j++) atom(1);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      i = countEscape(i);
      atom(1);
      continue;
    }
    if (char === "[") {
      i = skipClass(pattern, i, countEscape);
      atom(1);
      continue;
    }
    if (char === "(") {
      const flags = FLAG_GROUP.exec(rest());
      if (flags) {
        i += flags[0].length;
        continue;
      }
      stack.push({ alternatives: 0, current: 0, last: 0 });
      i++;
      continue;
    }
    if (char === ")" && stack.length > 1) {
      const frame = stack.pop()!;
      // Two instructions for the capture, which a non-capturing group does not need.
      atom(Math.min(SATURATED, frame.alternatives + frame.current + 2));
      i++;
      continue;
    }
    if (char === "|") {
      const frame = top();
      frame.alternatives = Math.min(SATURATED, frame.alternatives + frame.current + 1);
      frame.current = 0;
      frame.last = 0;
      i++;
      continue;
    }
    if (char === "*" || char === "+" || char === "?") {
      quantify(1);
      i++;
      continue;
    }
    if (char === "{") {
      const counted = COUNTED_REPEAT.exec(rest());
      if (counted) {
        const min = Number(counted[1]);
        // {n,} is n copies and a loop; {n,m} is m copies, the last m-n optional.
        const max = counted[2] === undefined ? min : counted[3] === "" ? min + 1 : Number(counted[3]);
        // RE2 refuses a count over 1000 while parsing, before expanding anything, and says so
        // better than a size limit would.
        quantify(min > 1000 || max > 1000 ? 1 : Math.max(min, max, 1));
        i += counted[0].length;
        continue;
      }
    }
    atom(1);
    i++;
  }
  while (stack.length > 1) {
    const frame = stack.pop()!;
    atom(Math.min(SATURATED, frame.alternatives + frame.current + 2));
  }
  const root = top();
  // The unanchored search loop, the match and the fail instructions.
  return { instructions: Math.min(SATURATED, root.alternatives + root.current + 4), unicodeClasses };
}

/** The index after the escape sequence starting at `start` (a backslash). */
function skipEscape(pattern: string, start: number): number {
  const kind = pattern[start + 1];
  if ((kind === "x" || kind === "p" || kind === "P") && pattern[start + 2] === "{") {
    const close = pattern.indexOf("}", start + 3);
    return close < 0 ? pattern.length : close + 1;
  }
  if (kind === "p" || kind === "P") return Math.min(pattern.length, start + 3);
  return Math.min(pattern.length, start + 2);
}

/** The index after the character class starting at `start` (a `[`), as RE2 delimits it. */
function skipClass(pattern: string, start: number, escape: (at: number) => number): number {
  let i = start + 1;
  if (pattern[i] === "^") i++;
  // A `]` right at the start is a literal member.
  if (pattern[i] === "]") i++;
  while (i < pattern.length) {
    const char = pattern[i]!;
    if (char === "]") return i + 1;
    if (char === "\\") {
      i = escape(i);
      continue;
    }
    if (char === "[" && pattern[i + 1] === ":") {
      // RE2 reads `[:` up to the next `:]` as a named class (and refuses an unknown name).
      const close = pattern.indexOf(":]", i + 2);
      if (close >= 0) {
        i = close + 2;
        continue;
      }
    }
    i++;
  }
  return pattern.length;
}
