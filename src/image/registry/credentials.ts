import { normalizeRegistryHost } from "./reference.ts";
import { parseBoundedJson } from "../../input/json.ts";

export interface RegistryCredential {
  username: string;
  /** A password or an access token used as one (GitHub, GitLab, Harbor robot accounts). */
  password: string;
}

/** Credentials by normalized registry host (`docker.io`, `ghcr.io`, `localhost:5000`). */
export type RegistryCredentials = ReadonlyMap<string, RegistryCredential>;

/** Never carries the secret's content: a parse error must not echo a password back. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialsError";
  }
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
}

/**
 * Reads a `.dockerconfigjson` (`{"auths": {...}}`) or legacy `.dockercfg` (the auths map itself).
 * Each entry holds `auth` (base64 of `user:password`) or `username` + `password`.
 */
export function parseDockerConfigJson(content: string | Uint8Array, source = ".dockerconfigjson"): Map<string, RegistryCredential> {
  let parsed: unknown;
  try {
    parsed = parseBoundedJson(typeof content === "string" ? content : Buffer.from(content).toString("utf8"), source);
  } catch {
    throw new CredentialsError(`${source} is not valid JSON; create it with kubectl create secret docker-registry`);
  }
  if (!isObject(parsed)) throw new CredentialsError(`${source} must be a JSON object with an "auths" map`);
  const auths = "auths" in parsed ? parsed.auths : parsed;
  if (!isObject(auths)) throw new CredentialsError(`${source}: "auths" must be an object keyed by registry host`);

  const credentials = new Map<string, RegistryCredential>();
  for (const [key, entry] of Object.entries(auths)) {
    if (!isObject(entry)) throw new CredentialsError(`${source}: the entry for ${JSON.stringify(key)} must be an object`);
    const credential = credentialOf(entry);
    if (credential === "invalid") {
      throw new CredentialsError(`${source}: the "auth" of ${JSON.stringify(key)} is not base64 of username:password`);
    }
    // Entries with neither form (e.g. only an identitytoken) cannot be used for basic or token auth.
    if (credential === undefined) continue;
    const host = normalizeRegistryHost(key);
    if (!credentials.has(host)) credentials.set(host, credential);
  }
  return credentials;
}

function credentialOf(entry: AuthEntry): RegistryCredential | "invalid" | undefined {
  if (typeof entry.auth === "string" && entry.auth !== "") {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entry.auth)) return "invalid";
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) return "invalid";
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === "string" && entry.username !== "" && typeof entry.password === "string") {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

export interface SecretLike {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  /** Base64 values, as the API returns them. */
  data?: Record<string, string | undefined>;
  stringData?: Record<string, string | undefined>;
}

/** Credentials from a `kubernetes.io/dockerconfigjson` (or legacy `kubernetes.io/dockercfg`) Secret. */
export function credentialsFromSecret(secret: SecretLike): Map<string, RegistryCredential> {
  const name = secret.metadata?.name ? `Secret ${secret.metadata.namespace ? `${secret.metadata.namespace}/` : ""}${secret.metadata.name}` : "the Secret";
  for (const key of [".dockerconfigjson", ".dockercfg"]) {
    const text = secret.stringData?.[key] ?? decodeBase64(secret.data?.[key]);
    if (text !== undefined) return parseDockerConfigJson(text, `${name} key ${key}`);
  }
  throw new CredentialsError(
    `${name} (type ${secret.type ?? "unset"}) has no .dockerconfigjson key; create it with kubectl create secret docker-registry <name> --docker-server=... --docker-username=... --docker-password=...`,
  );
}

function decodeBase64(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

export function findCredential(credentials: RegistryCredentials | undefined, registry: string): RegistryCredential | undefined {
  return credentials?.get(normalizeRegistryHost(registry));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
