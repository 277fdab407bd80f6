export { createRegistryClient, type ImageInput, type RegistryClient, type RegistryClientOptions } from "./client.ts";
export { RegistryError, type RegistryErrorCode } from "./errors.ts";
export {
  credentialsFromSecret,
  CredentialsError,
  findCredential,
  parseDockerConfigJson,
  type RegistryCredential,
  type RegistryCredentials,
  type SecretLike,
} from "./credentials.ts";
export {
  formatImageReference,
  imageName,
  ImageReferenceError,
  normalizeRegistryHost,
  parseImageReference,
  registryApiHost,
  type ImageReference,
} from "./reference.ts";
export { MEDIA_TYPES, type Descriptor, type ManifestInfo, type Platform, type PlatformManifest } from "./manifest.ts";
