import { decodeUriComponentLenient } from "../util/uri.ts";

/** An http(s) URL's userinfo, and everything up to the last `@` so that a stray `@` in a password leaks nothing. */
const HTTP_USERINFO = /^(https?:\/\/)([^/?#]*)@/i;
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;
const HTTP_USERINFO_IN_TEXT = /\b(https?:\/\/)[^/\s@'"]*@/gi;
const PASSWORD_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@'"]*):[^/\s@'"]*@/gi;

export interface SplitUrl {
  /** The URL to show, key the cache on and hand to git: no secrets in it. */
  url: string;
  /** Credentials that were embedded in an http(s) URL, to be sent as basic auth instead. */
  credentials?: { username: string; password: string };
}

/**
 * Takes credentials out of a URL. For http(s) all of the userinfo goes (GitHub accepts a token
 * as the username); for other schemes only a password goes, since an SSH user name is not a
 * secret and is needed to log in.
 */
export function splitCredentials(url: string): SplitUrl {
  const http = HTTP_USERINFO.exec(url);
  if (http) {
    const userinfo = http[2] ?? "";
    const colon = userinfo.indexOf(":");
    const username = decodeUriComponentLenient(colon < 0 ? userinfo : userinfo.slice(0, colon));
    const password = colon < 0 ? "" : decodeUriComponentLenient(userinfo.slice(colon + 1));
    return { url: (http[1] ?? "") + url.slice(http[0].length), credentials: { username, password } };
  }
  const other = URL_USERINFO.exec(url);
  if (other) {
    const userinfo = other[2] ?? "";
    const colon = userinfo.indexOf(":");
    if (colon >= 0) return { url: `${other[1] ?? ""}${userinfo.slice(0, colon)}@${url.slice(other[0].length)}` };
  }
  return { url };
}

/**
 * Makes text safe to show: the userinfo of http(s) URLs and the password of any other URL become
 * `***` (as in splitCredentials), and every known secret (password,
 * token, the encoded Authorization header) is masked wherever it appears.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let result = text.replace(HTTP_USERINFO_IN_TEXT, "$1***@").replace(PASSWORD_IN_TEXT, "$1:***@");
  // Very short secrets would mask ordinary words; git never prints credentials anyway, so this
  // is a second line of defence for the realistic ones.
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join("***");
  }
  return result;
}

