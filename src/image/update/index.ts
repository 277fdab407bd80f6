/** Formatting-preserving image edits of manifests: policy markers, Flux v1 annotations, `fjord set-image`. */
export { applyImagePolicies, type ImageChange, type LatestImage, type ManifestFile, type UpdateError, type UpdateResult } from "./apply-policies.ts";
export { parseMarker, formatMarker, type MarkerField, type PolicyMarker } from "./markers.ts";
export { findFluxV1Automations, setContainerImage, FLUX_V1_KINDS, type ContainerTarget, type FluxV1Container } from "./flux-v1.ts";
export { migrateFluxV1, IMAGE_API_VERSION, type ImagePolicySpec, type ImageRepositorySpec, type MigratedContainer, type MigrationOptions, type MigrationResult } from "./migrate-flux-v1.ts";
export { setImages, parseImageSetting, ImageSettingError, type ImageSetting } from "./set-image.ts";
export { parseImageReference, formatImageReference, type ImageReference } from "./image-ref.ts";
export { findKustomization, listYamlFiles, readManifestFiles, writeManifestFiles } from "./files.ts";
export { unifiedDiff } from "./diff.ts";
