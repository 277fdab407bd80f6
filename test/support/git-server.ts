// A throwaway Git server for tests: bare repositories in a temp directory,
// served over git's smart HTTP protocol by Debian git's own CGI program
// (`git http-backend`), so clients talk to the real server implementation.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { Transform, pipeline, type TransformCallback } from "node:stream";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export type GitServerAuth = { username: string; password: string } | { token: string };

export interface GitServerOptions {
  auth?: GitServerAuth;
  /** Directory holding the bare repositories. When given, close() leaves it in place. */
  root?: string;
}

export interface CommitOptions {
  message: string;
  branch?: string;
  author?: { name: string; email: string };
  /** Lightweight tag pointing at the new commit; an existing tag of that name is moved. */
  tag?: string;
}

export interface GitServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Directory holding the bare repositories (`<root>/<name>.git`). */
  readonly root: string;
  /** The isolated environment every git child runs with; reuse it for git clients in tests. */
  readonly gitEnv: Readonly<Record<string, string>>;
  repoUrl(name: string): string;
  fileUrl(name: string): string;
  createRepo(name: string, options?: { defaultBranch?: string }): Promise<string>;
  /** Writes (string) or deletes (null) files on `branch`, commits, pushes; resolves to the commit SHA. */
  commitFiles(name: string, files: Record<string, string | null>, options: CommitOptions): Promise<string>;
  /** Installs a server-side hook (a shell script) in the bare repository, e.g. a pre-receive hook guarding a branch. */
  installHook(name: string, hook: "pre-receive" | "update" | "post-receive", script: string): Promise<void>;
  close(): Promise<void>;
}

const REALM = 'Basic realm="fjord-test"';
const MAX_CGI_HEADER_BYTES = 64 * 1024;
const REPO_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const base = await mkdtemp(join(tmpdir(), "fjord-git-"));
  const home = join(base, "home");
  const root = options.root ?? join(base, "repos");
  await Promise.all([mkdir(home), mkdir(root, { recursive: true })]);

  const gitEnv = cleanGitEnv(home);
  const run = (args: string[], cwd?: string, extraEnv?: Record<string, string>) =>
    runGit(args, { cwd, env: extraEnv ? { ...gitEnv, ...extraEnv } : gitEnv });

  const backend = join((await run(["--exec-path"])).trim(), "git-http-backend");
  const cgiEnv = {
    ...gitEnv,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    // Without this, http-backend only allows pushes from an authenticated REMOTE_USER.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: "true",
  };

  const children = new Set<ChildProcess>();
  const server = createServer((req, res) => {
    const user = authenticate(req, options.auth);
    if (user === undefined) {
      res.writeHead(401, { "WWW-Authenticate": REALM, "Content-Type": "text/plain" }).end("unauthorized\n");
      return;
    }
    serveCgi(req, res, backend, cgiEnv, user, children);
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", fail);
      done();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const repoDir = (name: string) => {
    if (!REPO_NAME.test(name) || name.split("/").includes("..")) throw new Error(`invalid repository name: ${name}`);
    return join(root, `${name}.git`);
  };

  // Concurrent commits to one repo would race on the push; queue them instead.
  const queues = new Map<string, Promise<unknown>>();
  const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const next = (queues.get(key) ?? Promise.resolve()).then(fn);
    queues.set(key, next.catch(() => undefined));
    return next;
  };

  const commitFiles = async (name: string, files: Record<string, string | null>, opts: CommitOptions) => {
    const bare = repoDir(name);
    const branch = opts.branch ?? "main";
    // A fresh clone per commit keeps no state that an HTTP push in between could invalidate.
    const work = await mkdtemp(join(base, "work-"));
    try {
      await run(["clone", "--quiet", "--no-checkout", bare, work]);
      const start =
        (await revParse(run, work, `refs/remotes/origin/${branch}`)) ?? (await revParse(run, work, "HEAD"));
      if (start) await run(["checkout", "--quiet", "--force", "-B", branch, start], work);
      else await run(["symbolic-ref", "HEAD", `refs/heads/${branch}`], work);

      for (const [path, content] of Object.entries(files)) {
        const target = resolve(work, path);
        if (!target.startsWith(work + sep) || target.startsWith(join(work, ".git") + sep) || target === join(work, ".git")) {
          throw new Error(`file path escapes the work tree: ${path}`);
        }
        if (content === null) {
          await rm(target, { recursive: true, force: true });
        } else {
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, content);
        }
      }
      await run(["add", "--all"], work);
      const author = opts.author ? { GIT_AUTHOR_NAME: opts.author.name, GIT_AUTHOR_EMAIL: opts.author.email } : undefined;
      await run(["commit", "--quiet", "--allow-empty", "--no-verify", "-m", opts.message], work, author);
      const refspecs = [`HEAD:refs/heads/${branch}`];
      if (opts.tag !== undefined) {
        await run(["tag", "--force", opts.tag], work);
        refspecs.push(`+refs/tags/${opts.tag}:refs/tags/${opts.tag}`);
      }
      await run(["push", "--quiet", "origin", ...refspecs], work);
      return (await run(["rev-parse", "HEAD"], work)).trim();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };

  return {
    url,
    root,
    gitEnv,
    repoUrl: (name) => `${url}/${name}.git`,
    fileUrl: (name) => pathToFileURL(repoDir(name)).href,
    async createRepo(name, { defaultBranch = "main" } = {}) {
      await run(["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`, repoDir(name)]);
      return name;
    },
    commitFiles: (name, files, opts) => serialized(name, () => commitFiles(name, files, opts)),
    async installHook(name, hook, script) {
      const hooks = join(repoDir(name), "hooks");
      await mkdir(hooks, { recursive: true });
      await writeFile(join(hooks, hook), script, { mode: 0o755 });
    },
    async close() {
      const exited = [...children].map((child) => new Promise((done) => child.once("close", done)));
      for (const child of children) child.kill("SIGKILL");
      server.closeAllConnections();
      await Promise.all([new Promise((done) => server.close(done)), ...exited]);
      await rm(base, { recursive: true, force: true, maxRetries: 3 });
      if (options.root === undefined) await rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** The only environment git children see, so no user or system config leaks into tests. */
export function cleanGitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Fjord Test",
    GIT_AUTHOR_EMAIL: "test@fjord.invalid",
    GIT_COMMITTER_NAME: "Fjord Test",
    GIT_COMMITTER_EMAIL: "test@fjord.invalid",
  };
}

async function runGit(args: string[], opts: { cwd?: string; env: Record<string, string> }): Promise<string> {
  try {
    const { stdout } = await execFileAsync("git", args, { ...opts, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { code, stderr } = error as { code?: unknown; stderr?: unknown };
    const detail = typeof stderr === "string" ? stderr.trim() : "";
    throw new Error(redact(`git ${args.join(" ")} failed (exit ${String(code)}): ${detail}`), { cause: error });
  }
}

async function revParse(run: (args: string[], cwd?: string) => Promise<string>, cwd: string, ref: string) {
  try {
    return (await run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], cwd)).trim();
  } catch {
    return undefined;
  }
}

/** Hides the userinfo part of URLs so error messages never carry credentials. */
function redact(text: string): string {
  return text.replace(/(\/\/)[^/@\s]*@/g, "$1***@");
}

/** Returns the REMOTE_USER for an accepted request ("" when auth is off), undefined to reject. */
function authenticate(req: IncomingMessage, auth: GitServerAuth | undefined): string | undefined {
  if (!auth) return "";
  const header = req.headers.authorization ?? "";
  const [scheme = "", value = ""] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer") {
    return "token" in auth && safeEqual(value, auth.token) ? "token" : undefined;
  }
  if (scheme.toLowerCase() !== "basic") return undefined;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const ok =
    "token" in auth
      ? safeEqual(password, auth.token)
      : safeEqual(username, auth.username) && safeEqual(password, auth.password);
  return ok ? username : undefined;
}

function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal-length inputs, as timingSafeEqual requires.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function serveCgi(
  req: IncomingMessage,
  res: ServerResponse,
  backend: string,
  baseEnv: Record<string, string>,
  remoteUser: string,
  children: Set<ChildProcess>,
): void {
  const target = new URL(req.url ?? "/", "http://localhost");
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(target.pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }

  const env: Record<string, string> = {
    ...baseEnv,
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: pathInfo,
    QUERY_STRING: target.search.slice(1),
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
  };
  const optional: Record<string, string | undefined> = {
    CONTENT_TYPE: req.headers["content-type"],
    // Absent for chunked bodies; http-backend then reads stdin to EOF.
    CONTENT_LENGTH: req.headers["content-length"],
    REMOTE_USER: remoteUser || undefined,
    // Clients gzip larger request bodies; http-backend inflates only when told.
    HTTP_CONTENT_ENCODING: req.headers["content-encoding"],
    // Protocol v2 is negotiated via this header; http-backend reads either name.
    GIT_PROTOCOL: header(req, "git-protocol"),
    HTTP_GIT_PROTOCOL: header(req, "git-protocol"),
  };
  for (const [key, value] of Object.entries(optional)) if (value) env[key] = value;

  const child = spawn(backend, [], { env, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.once("close", () => children.delete(child));
  child.once("error", () => {
    if (!res.headersSent) res.writeHead(500);
    res.destroy();
  });
  child.stderr.resume();
  // The backend may exit without reading the body (e.g. 404); its response still counts.
  child.stdin.on("error", () => undefined);
  req.pipe(child.stdin);
  res.once("close", () => {
    if (!res.writableFinished && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  const parser = new CgiHeaderParser((status, message, headers) => {
    res.statusCode = status;
    if (message) res.statusMessage = message;
    for (const [name, value] of headers) res.appendHeader(name, value);
  });
  pipeline(child.stdout, parser, res, () => undefined);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Strips the CGI header block off the backend's stdout and hands it over before any body byte. */
class CgiHeaderParser extends Transform {
  #pending: Buffer | null = Buffer.alloc(0);

  constructor(private readonly onHead: (status: number, message: string, headers: [string, string][]) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#pending === null) {
      callback(null, chunk);
      return;
    }
    const buffered = Buffer.concat([this.#pending, chunk]);
    const end = findHeaderEnd(buffered);
    if (end === undefined) {
      if (buffered.length > MAX_CGI_HEADER_BYTES) {
        callback(new Error("CGI header block too large"));
        return;
      }
      this.#pending = buffered;
      callback();
      return;
    }
    this.#pending = null;
    this.#emitHead(buffered.subarray(0, end.start).toString("latin1"));
    const body = buffered.subarray(end.bodyStart);
    callback(null, body.length > 0 ? body : undefined);
  }

  override _flush(callback: TransformCallback): void {
    // The backend died before finishing its headers: nothing sensible to relay.
    if (this.#pending !== null) this.onHead(502, "Bad Gateway", []);
    callback();
  }

  #emitHead(block: string): void {
    let status = 200;
    let message = "";
    const headers: [string, string][] = [];
    for (const line of block.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") {
        const match = /^(\d{3})\s*(.*)$/.exec(value);
        if (match) {
          status = Number(match[1]);
          message = match[2] ?? "";
        }
      } else {
        headers.push([name, value]);
      }
    }
    this.onHead(status, message, headers);
  }
}

function findHeaderEnd(buffer: Buffer): { start: number; bodyStart: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { start: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { start: lf, bodyStart: lf + 2 };
  return undefined;
}
