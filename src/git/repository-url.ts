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


export interface RepositoryLocation {
  /** `https`, `http` or `ssh` (scp-like `user@host:path` is ssh). */
  protocol: "https" | "http" | "ssh";
  /** The host, lower-cased; an IPv6 address keeps its brackets. */
  hostname: string;
  /** The port as written for http(s), empty for the default; ssh ports are left out (they say nothing about the host's web API). */
  port: string;
  /**
   * The path exactly as written: still percent-encoded and with any `.` or `..` segments, so a
   * caller can refuse them instead of having them resolved away. Leading and trailing slashes
   * and a `.git` suffix are gone.
   */
  path: string;
}

const SSH_SCHEMES = new Set(["ssh", "git+ssh", "ssh+git"]);

/**
 * Where a repository lives, for talking to its host's API rather than to git: protocol, host,
 * port and the raw path. Undefined for anything that is not an http(s), ssh or scp-like URL, and
 * for URLs with a query or fragment (no repository URL has one).
 */
export function repositoryLocation(url: string): RepositoryLocation | undefined {
  const trimmed = url.trim();
  if (!SCHEME.test(trimmed)) {
    const scp = SCP_LIKE.exec(trimmed);
    if (!scp) return undefined;
    const hostname = (scp[1] ?? "").toLowerCase();
    if (!/^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(hostname)) return undefined;
    return { protocol: "ssh", hostname, port: "", path: trimPath(scp[2] ?? "") };
  }
  const scheme = trimmed.slice(0, trimmed.indexOf(":")).toLowerCase();
  const protocol = scheme === "https" || scheme === "http" ? scheme : SSH_SCHEMES.has(scheme) ? "ssh" : undefined;
  if (!protocol) return undefined;
  const rest = trimmed.slice(trimmed.indexOf("://") + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
  if (/[?#]/.test(tail)) return undefined;
  let parsed: URL;
  try {
    // Only the authority goes through the URL parser: it would resolve `..` and `%2e%2e` in the path.
    parsed = new URL(`${protocol === "ssh" ? "https" : protocol}://${authority}/`);
  } catch {
    return undefined;
  }
  return { protocol, hostname: parsed.hostname.toLowerCase(), port: protocol === "ssh" ? "" : parsed.port, path: trimPath(tail) };
}

function trimPath(path: string): string {
  return stripSuffixes(path).replace(/^\/+/, "");
}
