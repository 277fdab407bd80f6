/**
 * SOPS documents end to end: detect, parse, decrypt with the MAC verified, encrypt, and
 * re-encrypt after an edit. Pure apart from age's async crypto; no file system access.
 */
import { randomBytes } from "node:crypto";
import { decryptValue, encryptValue, parseEncryptedValue } from "./cipher.ts";
import { inFile, SopsError, SopsProblem } from "./errors.ts";
import { normalizeRfc3339, nowRfc3339 } from "./go-time.ts";
import { unwrapDataKey, wrapDataKey } from "./age-keys.ts";
import { attachMetadata, extractMetadata, SOPS_FORMAT_VERSION, type MetadataLayout, type SopsMetadata } from "./metadata.ts";
import { activeRule, compileRules, type CryptRules } from "./selectors.ts";
import { emitBinaryPlain, loadBinaryPlain } from "./store-binary.ts";
import { emitDotenv, loadDotenv } from "./store-dotenv.ts";
import { emitJson, loadJson } from "./store-json.ts";
import { emitYaml, loadYaml } from "./store-yaml.ts";
import { decryptTree, encryptTree, type IvStash } from "./tree-crypto.ts";
import type { Branches } from "./tree.ts";

export type SopsFormat = "yaml" | "json" | "dotenv" | "binary";
export const SOPS_FORMATS: readonly SopsFormat[] = ["yaml", "json", "dotenv", "binary"];

/** The format sops assumes for a file name: by its (case-sensitive) suffix, anything else is binary. */
export function formatForPath(file: string): SopsFormat {
  if (file.endsWith(".yaml") || file.endsWith(".yml")) return "yaml";
  if (file.endsWith(".json")) return "json";
  if (file.endsWith(".env")) return "dotenv";
  return "binary";
}

function asText(content: string | Uint8Array): string {
  return typeof content === "string" ? content : new TextDecoder().decode(content);
}

function asBytes(content: string | Uint8Array): Buffer {
  return typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
}

function layoutOf(format: SopsFormat): MetadataLayout {
  return format === "dotenv" ? "flat" : "nested";
}

/**
 * Whether a file carries SOPS metadata, from its text alone (no parsing): cheap enough to run
 * over every file a render uses. A file that passes and is then malformed fails to decrypt.
 */
export function isSopsDocument(content: string | Uint8Array, format: SopsFormat): boolean {
  const text = asText(content);
  if (!text.includes("lastmodified")) return false;
  switch (format) {
    case "yaml":
      // Spaces only: `\s+` would run over line ends, and from every line start of a file of blank lines.
      return /^sops:/m.test(text) && /^ +mac:/m.test(text);
    case "dotenv":
      return /^sops_mac=/m.test(text) && /^sops_lastmodified=/m.test(text);
    case "json":
    case "binary":
      return /"sops"\s*:/.test(text) && /"mac"\s*:/.test(text);
  }
}

function hasMetadataKey(branches: Branches, layout: MetadataLayout): boolean {
  return (branches[0]?.items ?? []).some((item) => item.kind === "entry" && (layout === "flat" ? item.key.startsWith("sops_") : item.key === "sops"));
}

function loadEncryptedBranches(content: string | Uint8Array, format: SopsFormat): Branches {
  const text = asText(content);
  if (format === "yaml") return loadYaml(text);
  if (format === "dotenv") return [loadDotenv(text)];
  return [loadJson(text)];
}

/** The plain (decrypted, or not yet encrypted) document in a format. */
export function loadPlain(content: string | Uint8Array, format: SopsFormat): Branches {
  switch (format) {
    case "yaml":
      return loadYaml(asText(content));
    case "json":
      return [loadJson(asText(content))];
    case "dotenv":
      return [loadDotenv(asText(content))];
    case "binary":
      return [loadBinaryPlain(asBytes(content))];
  }
}

function firstBranch(branches: Branches, format: SopsFormat) {
  const branch = branches[0];
  if (!branch) throw new SopsProblem("invalid-file", `an empty document cannot be written as ${format}`);
  if (branches.length > 1) throw new SopsProblem("invalid-input", `${format} holds one document, and this has ${branches.length}`);
  return branch;
}

export function emitPlain(branches: Branches, format: SopsFormat): Buffer {
  switch (format) {
    case "yaml":
      return Buffer.from(emitYaml(branches), "utf8");
    case "json":
      return Buffer.from(emitJson(firstBranch(branches, format)), "utf8");
    case "dotenv":
      return Buffer.from(emitDotenv(firstBranch(branches, format)), "utf8");
    case "binary":
      return emitBinaryPlain(firstBranch(branches, format));
  }
}

function emitEncrypted(branches: Branches, format: SopsFormat): Buffer {
  if (format === "yaml") return Buffer.from(emitYaml(branches), "utf8");
  if (format === "dotenv") return Buffer.from(emitDotenv(firstBranch(branches, format)), "utf8");
  return Buffer.from(emitJson(firstBranch(branches, format)), "utf8");
}

export interface ParsedSopsDocument {
  format: SopsFormat;
  /** Still encrypted, metadata removed. */
  branches: Branches;
  metadata: SopsMetadata;
}

/** The encrypted document and its metadata; throws SopsError `not-encrypted` for a plain file. */
export function parseSopsDocument(content: string | Uint8Array, format: SopsFormat, fileName: string): ParsedSopsDocument {
  try {
    const extracted = extractMetadata(loadEncryptedBranches(content, format), layoutOf(format));
    if (!extracted) {
      throw new SopsProblem("not-encrypted", "the file has no sops metadata, so it is not encrypted with sops", "encrypt it with `fjord secrets encrypt` or `sops encrypt`, or give its type if it is not " + format);
    }
    return { format, ...extracted };
  } catch (error) {
    throw inFile(error, fileName);
  }
}

export interface DecryptedDocument {
  format: SopsFormat;
  /** Plaintext, metadata removed. */
  branches: Branches;
  metadata: SopsMetadata;
  dataKey: Buffer;
  /** IVs of the values as decrypted, so re-encrypting unchanged values leaves them unchanged. */
  stash: IvStash;
}

export interface OpenOptions {
  format: SopsFormat;
  identities: readonly string[];
  /** Named in every error. */
  fileName: string;
}

/**
 * Decrypts every value and verifies the MAC; nothing is returned from a file that fails. The
 * order of checks: the data key is unwrapped with our identities (a file not encrypted for them
 * fails first), the values are decrypted and the MAC verified, and only then are the file's own
 * selector regexes (encrypted_regex...) compiled and run, on RE2, to check they agree.
 */
export async function openSopsDocument(content: string | Uint8Array, options: OpenOptions): Promise<DecryptedDocument> {
  const parsed = parseSopsDocument(content, options.format, options.fileName);
  try {
    const { metadata } = parsed;
    const dataKey = await unwrapDataKey(metadata, options.identities);
    const stash: IvStash = new Map();
    const storedMac = parseEncryptedValue(metadata.mac);
    const plainMac = storedMac && decryptValue(storedMac, dataKey, normalizeRfc3339(metadata.lastModified)!);
    const verifyMac = (mac: string) => {
      if (!plainMac) {
        throw new SopsProblem("tampered", "the MAC is missing or does not authenticate: the file was modified after encryption", "restore the file from version control");
      }
      if (plainMac.toString("utf8") !== mac) {
        throw new SopsProblem(
          "tampered",
          "MAC mismatch: the file was modified after encryption (a value, key or the order of entries changed)",
          "restore the file from version control, or make the change with `fjord secrets edit` or `sops edit`",
        );
      }
    };
    const branches = decryptTree(parsed.branches, { rules: metadata.rules, macOnlyEncrypted: metadata.macOnlyEncrypted, dataKey, stash, verifyMac });
    return { format: parsed.format, branches, metadata, dataKey, stash };
  } catch (error) {
    throw inFile(error, options.fileName);
  }
}

export interface DecryptOptions extends OpenOptions {
  /** Default: the input format. */
  outputFormat?: SopsFormat;
}

/** The plaintext file, in the output format, without the sops metadata. */
export async function decryptContent(content: string | Uint8Array, options: DecryptOptions): Promise<Buffer> {
  const document = await openSopsDocument(content, options);
  try {
    return emitPlain(document.branches, options.outputFormat ?? options.format);
  } catch (error) {
    throw inFile(error, options.fileName);
  }
}

export interface DecryptTextOptions {
  format: SopsFormat;
  identities: readonly string[];
  fileName: string;
}

export async function decryptText(text: string, options: DecryptTextOptions): Promise<string> {
  return (await decryptContent(text, options)).toString("utf8");
}

/** Encrypts plaintext branches under existing or new metadata, with a fresh lastmodified and MAC. */
function sealBranches(branches: Branches, format: SopsFormat, metadata: SopsMetadata, dataKey: Buffer, stash: IvStash | undefined, now: Date | undefined): Buffer {
  const lastModified = nowRfc3339(now);
  const rules = compileRules(metadata.rules);
  const encrypted = encryptTree(branches, { rules, macOnlyEncrypted: metadata.macOnlyEncrypted, dataKey, ...(stash ? { stash } : {}) });
  const mac = encryptValue(Buffer.from(encrypted.mac, "utf8"), "str", dataKey, lastModified);
  const sealed: SopsMetadata = { ...metadata, lastModified, mac };
  return emitEncrypted(attachMetadata(encrypted.branches, sealed, layoutOf(format)), format);
}

export interface EncryptOptions {
  format: SopsFormat;
  /** Default: the input format. */
  outputFormat?: SopsFormat;
  /** age recipients (`age1...`); at least one. */
  recipients: readonly string[];
  rules?: CryptRules;
  macOnlyEncrypted?: boolean;
  fileName: string;
  /** For tests: the lastmodified time. */
  now?: Date;
}

/** A new SOPS file: random data key wrapped for every recipient, like `sops encrypt --age`. */
export async function encryptContent(content: string | Uint8Array, options: EncryptOptions): Promise<Buffer> {
  try {
    if (options.recipients.length === 0) throw new SopsProblem("invalid-input", "no age recipient given", "give at least one --age recipient");
    const branches = loadPlain(content, options.format);
    const outputFormat = options.outputFormat ?? options.format;
    if (hasMetadataKey(branches, layoutOf(options.format))) {
      throw new SopsProblem("invalid-input", "the file is already encrypted with sops", "decrypt it first, or use `fjord secrets edit`");
    }
    let rules: CryptRules;
    try {
      rules = activeRule(options.rules ?? {});
      compileRules(rules);
    } catch (error) {
      throw new SopsProblem("invalid-input", (error as Error).message);
    }
    const dataKey = randomBytes(32);
    const metadata: SopsMetadata = {
      age: await wrapDataKey(dataKey, options.recipients),
      keyGroups: [],
      otherKeyTypes: [],
      extra: [],
      lastModified: "",
      mac: "",
      version: SOPS_FORMAT_VERSION,
      rules,
      macOnlyEncrypted: options.macOnlyEncrypted === true,
    };
    return sealBranches(branches, outputFormat, metadata, dataKey, undefined, options.now);
  } catch (error) {
    throw inFile(error, options.fileName);
  }
}

/**
 * The edited plaintext encrypted again like `sops edit` does: same data key, recipients and
 * rules, unchanged values keeping their ciphertext, new lastmodified and MAC.
 */
export function reencryptDocument(document: DecryptedDocument, editedPlaintext: string | Uint8Array, fileName: string, now?: Date): Buffer {
  try {
    const branches = loadPlain(editedPlaintext, document.format);
    return sealBranches(branches, document.format, document.metadata, document.dataKey, document.stash, now);
  } catch (error) {
    throw inFile(error, fileName);
  }
}

export { SopsError };
