import { createHash } from "node:crypto";
import { parseBoundedJson } from "../../input/json.ts";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** Without these, registries may answer with a converted (schema 1) manifest whose digest differs from what was pushed. */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest].join(", ");

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

export interface PlatformManifest extends Descriptor {
  platform?: Platform;
}

export interface ManifestInfo extends Descriptor {
  /** Set for an OCI index or Docker manifest list: the image per platform. */
  manifests?: PlatformManifest[];
  /** Set for an image manifest: its config blob (holds the creation time). */
  config?: Descriptor;
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

export function sha256Digest(body: Uint8Array): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

export function verifyDigest(expected: string, body: Uint8Array): boolean {
  const [algorithm] = expected.split(":");
  if (algorithm !== "sha256" && algorithm !== "sha512") return true;
  return `${algorithm}:${createHash(algorithm).update(body).digest("hex")}` === expected.toLowerCase();
}

/** Reads a manifest body; a message (without the body) when it is not one. */
export function parseManifest(body: Uint8Array, contentType: string | undefined, digest: string): ManifestInfo | string {
  let json: unknown;
  try {
    json = parseBoundedJson(Buffer.from(body).toString("utf8"), "the manifest", Number.POSITIVE_INFINITY);
  } catch {
    return "the manifest is not valid JSON";
  }
  if (typeof json !== "object" || json === null) return "the manifest is not a JSON object";
  const doc = json as Record<string, unknown>;
  const header = contentType?.split(";")[0]?.trim();
  // The body's own mediaType is authoritative; some registries send a generic Content-Type.
  const mediaType =
    typeof doc.mediaType === "string" && doc.mediaType !== ""
      ? doc.mediaType
      : header && header !== "application/json" && header !== "application/octet-stream"
        ? header
        : Array.isArray(doc.manifests)
          ? MEDIA_TYPES.ociIndex
          : MEDIA_TYPES.ociManifest;
  const info: ManifestInfo = { mediaType, digest, size: body.byteLength };
  if (Array.isArray(doc.manifests)) {
    info.manifests = doc.manifests.flatMap((entry: unknown): PlatformManifest[] => {
      const descriptor = readDescriptor(entry);
      if (!descriptor) return [];
      const platform = (entry as { platform?: unknown }).platform;
      return [platform && typeof platform === "object" ? { ...descriptor, platform: readPlatform(platform as Record<string, unknown>) } : descriptor];
    });
  }
  const config = readDescriptor(doc.config);
  if (config) info.config = config;
  return info;
}

function readDescriptor(value: unknown): Descriptor | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const entry = value as Record<string, unknown>;
  if (typeof entry.digest !== "string") return undefined;
  return {
    mediaType: typeof entry.mediaType === "string" ? entry.mediaType : "",
    digest: entry.digest,
    size: typeof entry.size === "number" ? entry.size : 0,
  };
}

function readPlatform(platform: Record<string, unknown>): Platform {
  const out: Platform = {};
  if (typeof platform.os === "string") out.os = platform.os;
  if (typeof platform.architecture === "string") out.architecture = platform.architecture;
  if (typeof platform.variant === "string") out.variant = platform.variant;
  return out;
}

/**
 * The index entry for a platform; by default linux/amd64, the platform most clusters run,
 * falling back to the first real image (attestation manifests say `unknown/unknown`).
 */
export function choosePlatform(manifests: readonly PlatformManifest[], wanted: Platform = { os: "linux", architecture: "amd64" }): PlatformManifest | undefined {
  const exact = manifests.find(
    (entry) =>
      entry.platform?.os === wanted.os &&
      entry.platform?.architecture === wanted.architecture &&
      (wanted.variant === undefined || entry.platform?.variant === wanted.variant),
  );
  return exact ?? manifests.find((entry) => entry.platform?.os !== "unknown");
}

/** The `created` time from an image config blob (OCI and Docker alike). */
export function configCreated(body: Uint8Array): Date | undefined {
  try {
    const config = parseBoundedJson(Buffer.from(body).toString("utf8"), "the image config", Number.POSITIVE_INFINITY) as { created?: unknown };
    if (typeof config.created !== "string") return undefined;
    const date = new Date(config.created);
    return Number.isNaN(date.getTime()) ? undefined : date;
  } catch {
    return undefined;
  }
}
