/**
 * Which repository URLs the controller may fetch from and push to. Flux allows http, https and
 * ssh; anything else (file://, a bare local path, `ext::` and git's other remote helpers) would
 * let whoever writes a GitRepository read any directory the controller can, such as other
 * teams' cached repositories. The one-shot CLI runs with its user's own rights and keeps local
 * paths. The same rule is the CRD's validation (src/api/crds.ts), so the API server refuses
 * such URLs before the controller sees them; the controller checks again for old CRDs.
 */
import { compileUserPattern } from "../util/user-pattern.ts";

/** No whitespace or control characters anywhere (they would end up in git's configuration). */
const TEXT = "[^[:cntrl:][:space:]]";

/**
 * `http://`, `https://` or `ssh://` followed by a host that is not an option (`-oProxyCommand`),
 * or scp-like `user@host:path`, which git reads as ssh: a user and a host without `/` before the
 * first colon, so that a local path such as `/x:y` or `./a:b` never passes for one. In RE2
 * syntax, which the API server's CEL and fjord read alike.
 */
export const REMOTE_URL_PATTERN = `^((https?|ssh)://[^-[:cntrl:][:space:]]${TEXT}*|[A-Za-z0-9_][A-Za-z0-9._~-]*@[A-Za-z0-9][A-Za-z0-9.-]*:${TEXT}+)$`;

export const REMOTE_URL_RULE = "https://, http:// or ssh:// (or scp-like user@host:path)";

const REMOTE_URL = compileUserPattern(REMOTE_URL_PATTERN);

/** Why the controller may not use `url` (without credentials), or undefined when it may. */
export function remoteUrlProblem(url: string): string | undefined {
  if (REMOTE_URL.test(url)) return undefined;
  const shown = JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url);
  if (/^file:/i.test(url) || url.startsWith("/") || url.startsWith(".") || /^[A-Za-z]:[\\/]/.test(url)) {
    return `${shown} is a local path; the controller fetches only over ${REMOTE_URL_RULE}: serve the repository over HTTPS or SSH`;
  }
  if (/^[A-Za-z0-9+.-]+::/.test(url)) return `${shown} names a git remote helper, which the controller does not run; use ${REMOTE_URL_RULE}`;
  return `${shown} is not a URL the controller may use; use ${REMOTE_URL_RULE}`;
}
