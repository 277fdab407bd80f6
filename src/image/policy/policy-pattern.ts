import { compileUserPattern, describePattern, UserPatternError, type UserPattern } from "../../util/user-pattern.ts";
import { compileGlob } from "./glob.ts";
import { TagPolicyError } from "./types.ts";

/** A user's regular expression for a policy field; a bad one is a TagPolicyError naming the field. */
export function compilePolicyPattern(field: string, pattern: string): UserPattern {
  return withField(field, "regular expression", pattern, () => compileUserPattern(pattern));
}

/** A user's tag glob for a policy field. */
export function compilePolicyGlob(field: string, glob: string): UserPattern {
  return withField(field, "glob", glob, () => compileGlob(glob));
}

function withField(field: string, what: string, text: string, compile: () => UserPattern): UserPattern {
  try {
    return compile();
  } catch (error) {
    if (error instanceof UserPatternError) throw new TagPolicyError(field, `invalid ${what} ${describePattern(text)}: ${error.message}`);
    throw error;
  }
}
