export interface AuthChallenge {
  /** Lowercased: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lowercased, e.g. realm, service, scope, error. */
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate` (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `name=value` or `name="quoted value"` parameters, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === "string" ? [header] : header;
  return values.flatMap(parseOne);
}

function parseOne(text: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skip = (pattern: RegExp) => {
    while (i < text.length && pattern.test(text[i] ?? "")) i++;
  };
  const token = () => {
    const start = i;
    while (i < text.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(text[i] ?? "")) i++;
    return text.slice(start, i);
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === "") {
      // Not a token where one must be: skip a character rather than loop forever.
      i++;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skip(/\s/);
      const mark = i;
      const name = token();
      skip(/\s/);
      if (name === "" || text[i] !== "=") {
        // The next scheme (or a token68 credential, which registries do not send).
        i = mark;
        break;
      }
      i++;
      skip(/\s/);
      let value: string;
      if (text[i] === '"') {
        i++;
        value = "";
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\" && i + 1 < text.length) i++;
          value += text[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < text.length && !/[\s,]/.test(text[i] ?? "")) i++;
        value = text.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
      skip(/\s/);
      if (text[i] !== ",") break;
      i++;
    }
  }
  return challenges;
}
