/**
 * Fuzzing a GitRepository's spec.ignore (source-ignore.ts over src/render/ignore-patterns.ts):
 * tenant-written gitignore lines, matched against every path of a checkout. Properties
 * (testenv/fuzz.ts): only IgnorePatternError or UserPatternError, and matching in bounded time
 * whatever the patterns (`*a*a*a...b`, `**` runs) and paths.
 */
import { test } from "node:test";
import fc from "fast-check";
import { hostileString } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { IgnorePatternError } from "../render/ignore-patterns.ts";
import { UserPatternError } from "../util/user-pattern.ts";
import { compileSourceIgnore } from "./source-ignore.ts";

test("compileSourceIgnore: only IgnorePatternError, matching in bounded time", async (t) => {
  const line = fc.oneof(fc.constantFrom("*.md", "!keep.md", "/deploy/", "**/secret*", "a/**/b", "\\#x", "[", "[!a-z]", "**".repeat(100), "*a".repeat(500) + "b", "# comment", "\\"), hostileString);
  await fuzz(t, {
    name: "compileSourceIgnore (src/controller/source-ignore.ts)",
    arbitrary: fc.tuple(fc.array(line, { maxLength: 20 }).map((lines) => lines.join("\n")), fc.array(fc.oneof(hostileString, fc.constantFrom("deploy/app.yaml", "a/b/c/d/e/secret.yaml", `${"a/".repeat(2000)}b`)), { maxLength: 10 })),
    allowed: [IgnorePatternError, UserPatternError],
    run: ([text, paths]) => {
      const matcher = compileSourceIgnore(text);
      return paths.map((file) => matcher.ignores(file, false));
    },
  });
});

