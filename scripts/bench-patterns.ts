/**
 * `npm run bench -- patterns`: what a hostile user pattern costs. Compiles each pattern of a
 * corpus (the catastrophic ones from issue 13 and the largest that fjord's limits let through)
 * and matches it against 10,000-character inputs built to be slow, the way fjord matches: a
 * boolean test (exclusion lists, globs, ignore patterns, SOPS rules) and a match with groups
 * (filterTags.extract, whose inputs are tags of at most 128 characters, also measured). Prints
 * the slowest case of each kind; the bound is 50 ms.
 */
import { compileUserPattern, describePattern, USER_PATTERN_LIMITS, type UserPattern } from "../src/util/user-pattern.ts";

/** The largest count of `unit{n}` the limits accept. */
function largest(unit: string, suffix = "$"): string {
  let accepted = `${unit}{1}${suffix}`;
  for (let n = 2; n <= 1000; n++) {
    const source = `${unit}{${n}}${suffix}`;
    try {
      compileUserPattern(source);
      accepted = source;
    } catch {
      break;
    }
  }
  return accepted;
}

function time(fn: () => unknown): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

export function benchPatterns(): void {
  // Once: re2js builds its Unicode tables on first use, which no single pattern should be charged.
  compileUserPattern("(?i)[\\pL\\PL]").test("warm-up");
  const units = ["[a-z]", ".", "(.)", "(?:a|b)", "(a|ab)", "(?:.*a)", "(?:a*)", "[\\pL\\pN]", "(?i)[a-z]", "(?:a.)", "[^/]", "(\\pL|\\pN)"];
  const corpus = [
    "^(a+)+$",
    "(a*)*(b*)*$",
    "(x+x+)+y",
    "(?s)^.*a.*a.*a.*a.*a.*b$",
    "\\pL".repeat(USER_PATTERN_LIMITS.maxUnicodeClasses) + "$",
    ...units.flatMap((unit) => [largest(unit), largest(unit, "")]),
  ];
  const length = 10_000;
  const inputs = ["a".repeat(length), "ab".repeat(length / 2), `${"a".repeat(length - 1)}!`, "é".repeat(length), Array.from({ length }, (_, i) => "abc-01x/"[i % 8]).join("")];
  const tags = inputs.map((input) => input.slice(0, 128));
  const worst = { compile: [0, ""] as [number, string], test: [0, ""] as [number, string], exec: [0, ""] as [number, string], tag: [0, ""] as [number, string] };
  const note = (kind: keyof typeof worst, ms: number, source: string) => {
    if (ms > worst[kind][0]) worst[kind] = [ms, source];
  };
  console.log(`${"pattern".padEnd(34)} ${"compile".padStart(8)} ${"test 10k".padStart(9)} ${"exec 10k".padStart(9)} ${"exec 128".padStart(9)}  (ms, slowest input)`);
  for (const source of corpus) {
    let pattern: UserPattern | undefined;
    const compile = time(() => {
      pattern = compileUserPattern(source);
    });
    if (!pattern) continue;
    const compiled = pattern;
    const test = Math.max(...inputs.map((input) => time(() => compiled.test(input))));
    const exec = Math.max(...inputs.map((input) => time(() => compiled.exec(input))));
    const tag = Math.max(...tags.map((input) => time(() => compiled.exec(input))));
    note("compile", compile, source);
    note("test", test, source);
    note("exec", exec, source);
    note("tag", tag, source);
    console.log(`${describePattern(source).slice(0, 34).padEnd(34)} ${compile.toFixed(1).padStart(8)} ${test.toFixed(1).padStart(9)} ${exec.toFixed(1).padStart(9)} ${tag.toFixed(1).padStart(9)}`);
  }
  console.log(`limits: ${USER_PATTERN_LIMITS.maxLength} characters, ${USER_PATTERN_LIMITS.maxInstructions} instructions, ${USER_PATTERN_LIMITS.maxUnicodeClasses} Unicode classes`);
  console.log(`slowest compile: ${worst.compile[0].toFixed(1)} ms (${describePattern(worst.compile[1])})`);
  console.log(`slowest test against ${length.toLocaleString("en")} characters: ${worst.test[0].toFixed(1)} ms (${describePattern(worst.test[1])})`);
  console.log(`slowest match with groups against ${length.toLocaleString("en")} characters: ${worst.exec[0].toFixed(1)} ms (${describePattern(worst.exec[1])})`);
  console.log(`slowest match with groups against a 128-character tag: ${worst.tag[0].toFixed(1)} ms (${describePattern(worst.tag[1])})`);
}
