// Tag patterns are written for Flux, whose controllers use Go's RE2 syntax. The common RE2-only
// spellings are translated to their JavaScript equivalents so Flux manifests work unchanged.

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  digit: "0-9",
  lower: "a-z",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

const JS_FLAGS: Record<string, string> = { i: "i", m: "m", s: "s" };

export class GoRegExpError extends Error {}

/** Compiles an RE2-style pattern: `(?P<name>...)`, leading `(?i)`-style flags, `\A`, `\z` and `[[:digit:]]` classes. */
export function compileGoRegExp(pattern: string): RegExp {
  let source = pattern;
  let flags = "";
  // RE2 allows flag groups anywhere; JavaScript (before Node 23) only as RegExp flags, so only a leading group translates.
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (leading) {
    for (const flag of leading[1] ?? "") {
      const js = JS_FLAGS[flag];
      if (js === undefined) throw new GoRegExpError(`flag (?${flag}) is not supported; use i, m or s`);
      if (!flags.includes(js)) flags += js;
    }
    source = source.slice(leading[0].length);
  }
  if (/\(\?[a-zA-Z-]+[):]/.test(source)) {
    throw new GoRegExpError("inline flag groups are only supported at the start of the pattern, e.g. (?i)^v1");
  }
  source = source
    .replace(/\(\?P</g, "(?<")
    .replace(/\[:(\^?)([a-z]+):\]/g, (whole, negated: string, name: string) => {
      const range = POSIX_CLASSES[name];
      if (range === undefined) throw new GoRegExpError(`unknown character class ${whole}`);
      if (negated) throw new GoRegExpError(`negated class ${whole} is not supported; use [^...] instead`);
      return range;
    })
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, "$1$2^")
    .replace(/(^|[^\\])((?:\\\\)*)\\z/g, "$1$2$$");
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new GoRegExpError((error as Error).message.replace(/^Invalid regular expression: /, ""));
  }
}

/**
 * Expands a template the way Go's Regexp.Expand does: `$name` takes the longest run of letters,
 * digits and underscores (so `$1x` means group "1x"), `${name}` delimits it, `$$` is a dollar,
 * and a group that does not exist or did not take part in the match expands to nothing.
 */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar === -1) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const rest = template.slice(dollar + 1);
    if (rest.startsWith("$")) {
      out += "$";
      i = dollar + 2;
      continue;
    }
    const named = /^\{([A-Za-z0-9_]+)\}/.exec(rest) ?? /^([A-Za-z0-9_]+)/.exec(rest);
    if (!named) {
      // Go treats a malformed reference as literal text.
      out += "$";
      i = dollar + 1;
      continue;
    }
    out += groupValue(named[1] ?? "", match);
    i = dollar + 1 + named[0].length;
  }
  return out;
}

function groupValue(name: string, match: RegExpExecArray): string {
  if (/^\d+$/.test(name)) {
    const index = Number(name);
    return index < match.length ? (match[index] ?? "") : "";
  }
  return match.groups?.[name] ?? "";
}
