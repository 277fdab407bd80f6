// A real Gitea for tests: the `gitea` binary built from Go modules (testenv/go-build.ts) on a
// loopback port, with SQLite in a temp directory, no mailer, no SSH, offline. It serves Git over
// smart HTTP and its REST API, so tests push commits with git and read commit statuses back
// through the API exactly as a user of a Gitea instance would.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "../../testenv/ensure-binaries.ts";
import { assetsDirOf } from "../../testenv/go-build.ts";
import { ManagedProcess } from "../../testenv/managed-process.ts";
import { freePort } from "../../testenv/ports.ts";
import { cleanGitEnv } from "./git-server.ts";

const execFileAsync = promisify(execFile);

export interface GiteaCommitStatus {
  id: number;
  context: string;
  /** Gitea's name for the state: pending, success, error, failure, warning. */
  status: string;
  description: string;
  target_url: string;
  creator?: { login: string };
}

export interface Gitea {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly admin: { username: string; password: string };
  /** An API token of the admin user with repository write scope. */
  readonly token: string;
  readonly logFile: string;
  /** The clone URL of `<admin>/<name>` (smart HTTP). */
  repoUrl(name: string): string;
  createRepo(name: string, options?: { private?: boolean }): Promise<void>;
  /** Writes (string) or deletes (null) files on `main` with git, pushes over HTTP; resolves to the new commit's SHA. */
  commitFiles(name: string, files: Record<string, string | null>, message: string): Promise<string>;
  /** The statuses of a commit as Gitea's API lists them, newest first. */
  statuses(name: string, sha: string): Promise<GiteaCommitStatus[]>;
  /** An authenticated API call of the admin (token auth). */
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

function appIni(options: { dir: string; port: number; assets: string }): string {
  const { dir, port, assets } = options;
  return `APP_NAME = fjord-test-gitea
RUN_MODE = prod
RUN_USER = ${userInfo().username}
WORK_PATH = ${dir}
; CI runs as root; Gitea refuses root without this. It changes nothing else.
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${port}
ROOT_URL = http://127.0.0.1:${port}/
LOCAL_ROOT_URL = http://127.0.0.1:${port}/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
STATIC_ROOT_PATH = ${assets}
APP_DATA_PATH = ${join(dir, "data")}

[database]
DB_TYPE = sqlite3
PATH = ${join(dir, "data", "gitea.db")}
SQLITE_JOURNAL_MODE = WAL

[repository]
ROOT = ${join(dir, "repositories")}
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = ${randomBytes(32).toString("hex")}
INTERNAL_TOKEN = ${randomBytes(48).toString("hex")}
PASSWORD_HASH_ALGO = pbkdf2_hi

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
ENABLE_NOTIFY_MAIL = false

[mailer]
ENABLED = false

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[cron]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = ${join(dir, "log")}
`;
}

export async function startGitea(): Promise<Gitea> {
  const { gitea: binary } = await ensureBinaries(["gitea"], (line) => process.stderr.write(`[gitea] ${line}\n`));
  const dir = await mkdtemp(join(tmpdir(), "fjord-gitea-"));
  const home = join(dir, "home");
  await Promise.all([mkdir(home), mkdir(join(dir, "custom", "conf"), { recursive: true }), mkdir(join(dir, "data")), mkdir(join(dir, "log"))]);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, "custom", "conf", "app.ini");
  await writeFile(config, appIni({ dir, port, assets: assetsDirOf(binary) }));
  const env = { ...cleanGitEnv(home), GITEA_WORK_DIR: dir, GITEA_CUSTOM: join(dir, "custom") };
  const logFile = join(dir, "gitea.log");
  const child = ManagedProcess.start({ component: "gitea", binary, args: ["web", "--config", config, "--work-path", dir], logFile, env });
  const cleanup = async () => {
    await child.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await child.waitReady({
      timeoutMs: 120_000,
      timeoutHint: "read the Gitea log",
      ready: async () => {
        try {
          return (await fetch(`${url}/api/v1/version`)).ok;
        } catch {
          return false;
        }
      },
    });
    const admin = { username: "fjord", password: `pw-${randomBytes(12).toString("hex")}` };
    await execFileAsync(binary, ["admin", "user", "create", "--config", config, "--work-path", dir, "--username", admin.username, "--password", admin.password, "--email", "fjord@fjord.invalid", "--admin", "--must-change-password=false"], { env });
    const basic = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString("base64")}`;
    const created = await fetch(`${url}/api/v1/users/${admin.username}/tokens`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json" },
      body: JSON.stringify({ name: "fjord-tests", scopes: ["write:repository", "write:user"] }),
    });
    if (created.status !== 201) throw new Error(`creating a Gitea token failed: HTTP ${created.status} ${await created.text()}`);
    const token = ((await created.json()) as { sha1: string }).sha1;

    const api = async <T>(method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `token ${token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const repoUrl = (name: string) => `${url}/${admin.username}/${name}.git`;
    const git = async (args: string[], cwd: string) => {
      // The credentials go in a header from the environment: never in a URL or an argument.
      const auth = { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${admin.username}:${token}`).toString("base64")}` };
      const { stdout } = await execFileAsync("git", args, { cwd, env: { ...cleanGitEnv(home), ...auth }, encoding: "utf8" });
      return stdout.trim();
    };
    let pushes = Promise.resolve("");

    return {
      url,
      admin,
      token,
      logFile,
      repoUrl,
      async createRepo(name, options = {}) {
        const response = await api("POST", "/user/repos", { name, private: options.private ?? false, auto_init: false, default_branch: "main" });
        if (response.status !== 201) throw new Error(`creating Gitea repository ${name} failed: HTTP ${response.status} ${JSON.stringify(response.body)}`);
      },
      commitFiles(name, files, message) {
        const commit = async () => {
          const work = await mkdtemp(join(dir, "work-"));
          try {
            await git(["init", "--quiet", "--initial-branch=main"], work);
            await git(["remote", "add", "origin", repoUrl(name)], work);
            const hasMain = (await git(["ls-remote", "--heads", "origin", "main"], work)) !== "";
            if (hasMain) {
              await git(["fetch", "--quiet", "origin", "main"], work);
              await git(["checkout", "--quiet", "--force", "-B", "main", "FETCH_HEAD"], work);
            }
            for (const [path, content] of Object.entries(files)) {
              const target = resolve(work, path);
              if (!target.startsWith(work + sep) || target.startsWith(join(work, ".git"))) throw new Error(`file path escapes the work tree: ${path}`);
              if (content === null) await rm(target, { recursive: true, force: true });
              else {
                await mkdir(dirname(target), { recursive: true });
                await writeFile(target, content);
              }
            }
            await git(["add", "--all"], work);
            await git(["commit", "--quiet", "--allow-empty", "--no-verify", "-m", message], work);
            await git(["push", "--quiet", "origin", "HEAD:refs/heads/main"], work);
            return await git(["rev-parse", "HEAD"], work);
          } finally {
            await rm(work, { recursive: true, force: true });
          }
        };
        // One push at a time: a second would race the first's fetch.
        const next = pushes.then(commit, commit);
        pushes = next.catch(() => "");
        return next;
      },
      async statuses(name, sha) {
        const response = await api<GiteaCommitStatus[]>("GET", `/repos/${admin.username}/${name}/commits/${sha}/statuses?sort=newest`);
        if (response.status !== 200) throw new Error(`listing statuses of ${sha} failed: HTTP ${response.status}`);
        return response.body;
      },
      api,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
