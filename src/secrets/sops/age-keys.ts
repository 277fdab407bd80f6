/**
 * age identities (where sops and Flux find them) and the data key they wrap. Identities are
 * secrets: errors name where one came from and its public recipient, never the identity.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { armor, Decrypter, Encrypter, identityToRecipient } from "age-encryption";
import { SopsError, SopsProblem } from "./errors.ts";
import type { AgeStanza, SopsMetadata } from "./metadata.ts";

const IDENTITY_PATTERN = /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/;
const DATA_KEY_SIZE = 32;

/**
 * Identities in the age key file format: one per line, `#` comments and blank lines ignored.
 * SOPS_AGE_KEY also allows several per line.
 */
export function parseAgeIdentities(text: string, source: string, options: { severalPerLine?: boolean } = {}): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    for (const word of options.severalPerLine ? line.split(/\s+/) : [line]) {
      if (word.startsWith("AGE-PLUGIN-")) {
        throw new SopsError("unsupported", source, `line ${index + 1} holds an age plugin identity, which fjord does not support`, "use a native age identity (AGE-SECRET-KEY-1...)");
      }
      if (!IDENTITY_PATTERN.test(word)) {
        throw new SopsError("invalid-input", source, `line ${index + 1} is not an age identity (AGE-SECRET-KEY-1...)`, "give a file written by age-keygen or `fjord secrets keygen`");
      }
      identities.push(word);
    }
  });
  return identities;
}

/**
 * Identities from a Kubernetes Secret's `data` (base64), like Flux: every entry whose key ends
 * in `.agekey`, each holding one or more identities.
 */
export function ageIdentitiesFromSecretData(data: Record<string, string>): string[] {
  const identities: string[] = [];
  for (const key of Object.keys(data).filter((name) => name.endsWith(".agekey")).sort()) {
    const encoded = data[key]!.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      throw new SopsError("invalid-input", `Secret key ${key}`, "is not base64", "store the key file under data (base64) or stringData");
    }
    identities.push(...parseAgeIdentities(Buffer.from(encoded, "base64").toString("utf8"), `Secret key ${key}`));
  }
  return identities;
}

/** os.UserConfigDir() as Go computes it; sops looks for `sops/age/keys.txt` there. */
export function userConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  const home = env.HOME || os.homedir();
  if (platform === "darwin") return env.XDG_CONFIG_HOME || (home ? path.join(home, "Library", "Application Support") : undefined);
  if (platform === "win32") return env.AppData || undefined;
  return env.XDG_CONFIG_HOME || (home ? path.join(home, ".config") : undefined);
}

export interface EnvironmentIdentities {
  identities: string[];
  /** Where they came from, for messages: `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE (<path>)`, the default file. */
  sources: string[];
}

/**
 * The identities sops itself would use: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and the default key
 * file `<user config dir>/sops/age/keys.txt`, all of them together.
 */
export async function loadAgeIdentitiesFromEnvironment(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<EnvironmentIdentities> {
  const result: EnvironmentIdentities = { identities: [], sources: [] };
  const add = (identities: string[], source: string) => {
    if (identities.length === 0) return;
    result.identities.push(...identities);
    result.sources.push(source);
  };
  if (env.SOPS_AGE_KEY) add(parseAgeIdentities(env.SOPS_AGE_KEY, "SOPS_AGE_KEY", { severalPerLine: true }), "SOPS_AGE_KEY");
  if (env.SOPS_AGE_KEY_FILE) {
    const file = env.SOPS_AGE_KEY_FILE;
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new SopsError("invalid-input", file, `(SOPS_AGE_KEY_FILE) cannot be read (${error.code ?? error.message})`, "point SOPS_AGE_KEY_FILE at an age key file");
    });
    add(parseAgeIdentities(text, file), `SOPS_AGE_KEY_FILE (${file})`);
  }
  const configDir = userConfigDir(env, platform);
  if (configDir) {
    const file = path.join(configDir, "sops", "age", "keys.txt");
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) add(parseAgeIdentities(text, file), file);
  }
  return result;
}

/** The public recipient of an identity; the error never repeats the identity. */
export async function recipientOf(identity: string, position: number): Promise<string> {
  try {
    return await identityToRecipient(identity);
  } catch {
    throw new SopsProblem("invalid-input", `age identity number ${position + 1} is malformed`, "check the key file: each identity is one AGE-SECRET-KEY-1... line");
  }
}

export async function recipientsOf(identities: readonly string[]): Promise<string[]> {
  return Promise.all(identities.map((identity, index) => recipientOf(identity, index)));
}

function describeOthers(metadata: SopsMetadata): string {
  return metadata.otherKeyTypes.length > 0 ? ` (it also has ${metadata.otherKeyTypes.join(", ")} keys, which fjord does not use)` : "";
}

const IDENTITY_FIX =
  "give an age identity for one of its recipients: `--decryption-key-file`, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY for the CLI; a Secret with a *.agekey entry for an Application";

/**
 * The 32-byte data key, unwrapped from the first age entry one of the identities opens.
 * Failures say which recipients the file has and which were tried.
 */
export async function unwrapDataKey(metadata: SopsMetadata, identities: readonly string[]): Promise<Buffer> {
  if (metadata.keyGroups.length > 1) {
    throw new SopsProblem("unsupported", `the data key is split across ${metadata.keyGroups.length} key groups (Shamir), which fjord does not support`, "encrypt the file with a single key group");
  }
  const stanzas: AgeStanza[] = metadata.age.length > 0 ? metadata.age : (metadata.keyGroups[0] ?? []);
  const fileRecipients = stanzas.map((stanza) => stanza.recipient);
  if (stanzas.length === 0) {
    throw new SopsProblem("unsupported", `the file has no age keys, only ${metadata.otherKeyTypes.join(", ") || "other"} keys, and fjord decrypts with age only`, "add an age recipient with `sops updatekeys` or re-encrypt with --age");
  }
  const listed = fileRecipients.join(", ");
  if (identities.length === 0) {
    throw new SopsProblem("no-identities", `the file is encrypted for age recipients ${listed}${describeOthers(metadata)}, and no age identity was given`, IDENTITY_FIX);
  }
  const ours = await recipientsOf(identities);
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  for (const stanza of stanzas) {
    let file: Uint8Array;
    try {
      file = armor.decode(stanza.enc);
    } catch {
      throw new SopsProblem("invalid-file", `the age entry for ${stanza.recipient} is not an ASCII-armored age file`, "restore the file from version control");
    }
    const key = await decrypter.decrypt(file).catch(() => undefined);
    if (!key) continue;
    if (key.length !== DATA_KEY_SIZE) throw new SopsProblem("invalid-file", `the age entry for ${stanza.recipient} does not hold a ${DATA_KEY_SIZE}-byte data key`);
    return Buffer.from(key);
  }
  const claimed = fileRecipients.filter((recipient) => ours.includes(recipient));
  if (claimed.length > 0) {
    throw new SopsProblem(
      "wrong-key",
      `the age entry for ${claimed.join(", ")} does not open with the identity for that recipient: the entry was encrypted to another key or changed`,
      "restore the file from version control, or re-encrypt it for this key",
    );
  }
  throw new SopsProblem(
    "no-matching-key",
    `the file is encrypted for age recipients ${listed}${describeOthers(metadata)}; the ${ours.length} identities tried are for ${[...new Set(ours)].join(", ")}, none of them a recipient`,
    IDENTITY_FIX,
  );
}

const RECIPIENT_PATTERN = /^age1[0-9a-z]+$/;

/** The data key wrapped for each recipient, as sops writes `age:` entries. */
export async function wrapDataKey(dataKey: Uint8Array, recipients: readonly string[]): Promise<AgeStanza[]> {
  const stanzas: AgeStanza[] = [];
  for (const recipient of recipients) {
    if (!RECIPIENT_PATTERN.test(recipient)) {
      throw new SopsProblem("invalid-input", `${JSON.stringify(recipient)} is not an age recipient (age1...)`, "give the public key printed by age-keygen or `fjord secrets keygen`");
    }
    const encrypter = new Encrypter();
    try {
      encrypter.addRecipient(recipient);
      stanzas.push({ recipient, enc: armor.encode(await encrypter.encrypt(dataKey)) });
    } catch (error) {
      throw new SopsProblem("invalid-input", `age recipient ${recipient} is invalid: ${(error as Error).message}`);
    }
  }
  return stanzas;
}
