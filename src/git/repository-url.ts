import { decodeUriComponentLenient } from "../util/uri.ts";

/** `user@host:path` (scp-like SSH), as git reads it: no scheme, and a colon before any slash. */
const SCP_LIKE = /^(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):(?!\/\/)(.*)$/;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Ports that mean nothing for identity: the URL parser drops them only for http(s). */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { "ssh:": "22", "git+ssh:": "22", "ssh+git:": "22", "git:": "9418", "http:": "80", "https:": "443" };

/**
 * The identity of a repository, so that a webhook's URLs and a source's URL compare equal
 * however each was written: `https://github.com/org/repo.git`, `git@github.com:org/repo.git`
 * and `ssh://git@github.com/org/repo` all give `github.com/org/repo`. Scheme, user and
 * credentials, default ports, `.git` and trailing slashes go; the host is lower-cased. The
 * path keeps its case: some servers treat `Org/Repo` and `org/repo` as different repositories.
 */
export function normaliseRepositoryUrl(url: string): string {
  const trimmed = url.trim();
  if (SCHEME.test(trimmed)) return normaliseSchemeUrl(trimmed) ?? stripSuffixes(trimmed);
  const scp = SCP_LIKE.exec(trimmed);
  if (scp) return joinHostAndPath((scp[1] ?? "").toLowerCase(), scp[2] ?? "");
  return stripSuffixes(trimmed);
}

function normaliseSchemeUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const protocol = parsed.protocol.toLowerCase();
  // URL keeps the case of hosts of schemes it does not know (ssh, git), so lower-case here.
  const host = parsed.hostname.toLowerCase();
  const port = parsed.port && parsed.port !== DEFAULT_PORTS[protocol] ? `:${parsed.port}` : "";
  return joinHostAndPath(`${host}${port}`, decodeUriComponentLenient(parsed.pathname));
}

function joinHostAndPath(host: string, path: string): string {
  const cleanPath = stripSuffixes(path).replace(/^\/+/, "");
  return cleanPath ? `${host}/${cleanPath}` : host;
}

function stripSuffixes(path: string): string {
  let result = path.replace(/\/+$/, "");
  if (result.toLowerCase().endsWith(".git")) result = result.slice(0, -4).replace(/\/+$/, "");
  return result;
}

