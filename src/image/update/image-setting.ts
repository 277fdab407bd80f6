import { formatImageReference, invalidReferenceReason, isImageName, parseImageReference } from "./image-ref.ts";

/** One `--image` argument, in kustomize's terms. */
export interface ImageSetting {
  /** The image name manifests use (a kustomization `images:` entry's `name`). */
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
  /** The argument as given, for reports. */
  spec: string;
}

export class ImageSettingError extends Error {
  override readonly name = "ImageSettingError";
}

/**
 * Parses the forms `kustomize edit set image` takes: `name=newName:newTag`,
 * `name=newName@digest`, `name=newName`, `name:newTag` and `name@digest`.
 */
export function parseImageSetting(spec: string): ImageSetting {
  const text = spec.trim();
  const usage = `; expected name=newName:newTag, name=newName@digest or name:newTag`;
  const equals = text.indexOf("=");
  if (equals >= 0) {
    const name = text.slice(0, equals);
    const target = parseImageReference(text.slice(equals + 1));
    if (!isImageName(name)) throw new ImageSettingError(`--image ${spec}: "${name}" is not a valid image name${usage}`);
    const reason = invalidReferenceReason(target);
    if (reason) throw new ImageSettingError(`--image ${spec}: ${reason}${usage}`);
    return { name, newName: target.name, ...fields(target.tag, target.digest), spec: text };
  }
  const reference = parseImageReference(text);
  const reason = invalidReferenceReason(reference);
  if (reason) throw new ImageSettingError(`--image ${spec}: ${reason}${usage}`);
  if (reference.tag === undefined && reference.digest === undefined) {
    throw new ImageSettingError(`--image ${spec}: names no new name, tag or digest${usage}`);
  }
  return { name: reference.name, ...fields(reference.tag, reference.digest), spec: text };
}

function fields(tag: string | undefined, digest: string | undefined): Pick<ImageSetting, "newTag" | "digest"> {
  return { ...(tag !== undefined ? { newTag: tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/**
 * The image a container gets: a new tag drops an old digest and a new digest alone drops the
 * tag, since either left behind would pin or mislabel the old image.
 */
export function settingApplied(current: string, setting: ImageSetting): string {
  const reference = parseImageReference(current);
  const pinned = setting.newTag !== undefined || setting.digest !== undefined;
  return formatImageReference({
    name: setting.newName ?? reference.name,
    ...(setting.newTag !== undefined ? { tag: setting.newTag } : !pinned && reference.tag !== undefined ? { tag: reference.tag } : {}),
    ...(setting.digest !== undefined ? { digest: setting.digest } : !pinned && reference.digest !== undefined ? { digest: reference.digest } : {}),
  });
}

/** Whether a container image is one the setting is about: its name, or already its new name. */
export function settingMatches(image: string, setting: ImageSetting): boolean {
  const { name } = parseImageReference(image);
  return name === setting.name || (setting.newName !== undefined && name === setting.newName);
}
