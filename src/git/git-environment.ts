import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makePrivateTempDir } from "../util/private-temp.ts";
import type { GitAuth } from "./types.ts";

export interface GitEnvironment {
  /** The complete environment for every git child: nothing else from fjord's own environment leaks in. */
  readonly env: Readonly<Record<string, string>>;
  /** Whether an Authorization header goes with every HTTP request. */
  readonly sendsHttpCredentials: boolean;
  /** Strings that must never appear in a message or log. */
  readonly secrets: readonly string[];
  /** Deletes the private HOME and any key material written for ssh. */
  dispose(): Promise<void>;
}

/** Network settings of the machine, not of a user: without them nothing works behind a proxy or a private CA. */
const PASSED_THROUGH = [
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "TMPDIR",
];

/**
 * Builds the clean, deterministic environment git runs with for one operation: a private HOME,
 * no system or global config, no prompts, and credentials only through the environment
 * (git's `GIT_CONFIG_*` variables and a key file), never on a command line someone can see in `ps`.
 */
export async function prepareGitEnvironment(
  url: string,
  auth: GitAuth | undefined,
  basic: { username: string; password: string } | undefined,
  options: { allowLocal?: boolean } = {},
): Promise<GitEnvironment> {
  const privateDir = await makePrivateTempDir("git-env");
  try {
    const home = path.join(privateDir, "home");
    await mkdir(home);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      // git's messages are matched to error codes, so they must not be translated.
      LANG: "C",
      LC_ALL: "C",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "",
      SSH_ASKPASS: "",
      SSH_ASKPASS_REQUIRE: "never",
      // `ext::` would run an arbitrary command named in the URL, and file (like `fd::`) would read
      // the controller's own disk; this also holds for redirects, submodules and alternates.
      GIT_ALLOW_PROTOCOL: options.allowLocal ? "http:https:ssh:git:file" : "http:https:ssh",
    };
    for (const name of PASSED_THROUGH) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }

    const config: [string, string][] = [
      // gc may run after a fetch; detached it would outlive the cache lock and the timeout.
      ["gc.autoDetach", "false"],
      ["core.symlinks", "true"],
    ];
    const secrets: string[] = [];

    const credentials = httpCredentials(auth) ?? basic;
    if (credentials) {
      const encoded = Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64");
      // Scoped to this URL so the header never goes to another host, e.g. a submodule's.
      config.push([`http.${url}.extraHeader`, `Authorization: Basic ${encoded}`]);
      secrets.push(credentials.password, encoded);
    }

    let ssh = "ssh";
    if (auth?.kind === "ssh") {
      const keyFile = path.join(privateDir, "identity");
      const knownHostsFile = path.join(privateDir, "known_hosts");
      // OpenSSH refuses a key without its final newline ("invalid format").
      await writeFile(keyFile, withFinalNewline(auth.privateKey), { mode: 0o600 });
      await writeFile(knownHostsFile, withFinalNewline(auth.knownHosts), { mode: 0o600 });
      ssh += ` -i ${shellQuote(keyFile)} -o IdentitiesOnly=yes -o UserKnownHostsFile=${shellQuote(knownHostsFile)}`;
      secrets.push(...auth.privateKey.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----")));
    } else {
      ssh += " -o UserKnownHostsFile=/dev/null";
    }
    // ssh reads ~/.ssh/config from the passwd entry, not $HOME: -F /dev/null keeps the user's out.
    // There is deliberately no trust-on-first-use: an unknown host key is an error.
    env.GIT_SSH_COMMAND =
      `${ssh} -F /dev/null -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes` +
      " -o IdentityAgent=none -o UpdateHostKeys=no";
    env.GIT_SSH_VARIANT = "ssh";

    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], index) => {
      env[`GIT_CONFIG_KEY_${index}`] = key;
      env[`GIT_CONFIG_VALUE_${index}`] = value;
    });

    return {
      env,
      sendsHttpCredentials: credentials !== undefined,
      secrets,
      dispose: () => rm(privateDir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(privateDir, { recursive: true, force: true });
    throw error;
  }
}

function httpCredentials(auth: GitAuth | undefined): { username: string; password: string } | undefined {
  if (auth?.kind === "basic") return { username: auth.username, password: auth.password };
  if (auth?.kind === "token") return { username: auth.username ?? "git", password: auth.token };
  return undefined;
}

function withFinalNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** GIT_SSH_COMMAND is run by a shell; temp paths may hold spaces. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
