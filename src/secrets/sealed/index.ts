/** Bitnami Sealed Secrets, compatible with kubeseal and upstream's controller. */
export { DEFAULT_KEY_SIZE, generateSealingKey, parsePrivateKey, parseSealingCertificate, publicKeyFingerprint, usableSealingCertificate } from "./certificate.ts";
export { hybridDecrypt, hybridEncrypt, HybridDecryptError } from "./hybrid.ts";
export { SEALING_KEY_LABEL, SEALING_KEY_PREFIX } from "./key-store.ts";
export { formatManifest, parseManifest, type ManifestFormat } from "./manifest.ts";
export { InvalidObjectError, sealedSecretFromManifest, secretFromManifest } from "./objects.ts";
export { MAX_SEALED_VALUE_LENGTH, MAX_SEALED_VALUES } from "./requests.ts";
export { CLUSTER_WIDE_ANNOTATION, encryptionLabel, NAMESPACE_WIDE_ANNOTATION, SCOPES, scopeOf, type SealingScope } from "./scope.ts";
export { sealSecret, type SealOptions } from "./seal.ts";
export * from "./types.ts";
export { canUnseal, reEncryptSealedSecret, SECRET_DATA_LIMIT, unsealSealedSecret, UnsealError } from "./unseal.ts";
