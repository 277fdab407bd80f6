/**
 * SOPS (age) for fjord: files byte-compatible with the `sops` CLI, decrypted with the MAC
 * verified. Everything the rest of fjord needs is exported here.
 */
export { SopsError, type SopsErrorCode } from "./errors.ts";
export {
  decryptContent,
  decryptText,
  emitPlain,
  encryptContent,
  formatForPath,
  isSopsDocument,
  loadPlain,
  openSopsDocument,
  parseSopsDocument,
  reencryptDocument,
  SOPS_FORMATS,
  type DecryptedDocument,
  type DecryptOptions,
  type DecryptTextOptions,
  type EncryptOptions,
  type ParsedSopsDocument,
  type SopsFormat,
} from "./document.ts";
export { decryptFile, replaceFile, type DecryptFileOptions } from "./files.ts";
export { editSopsFile, editorCommand, type EditOptions } from "./edit-session.ts";
export { extractValue, parseExtractPath } from "./extract.ts";
export {
  ageIdentitiesFromSecretData,
  loadAgeIdentitiesFromEnvironment,
  parseAgeIdentities,
  recipientsOf,
  type EnvironmentIdentities,
} from "./age-keys.ts";
export type { CryptRules } from "./selectors.ts";
export type { SopsMetadata } from "./metadata.ts";
