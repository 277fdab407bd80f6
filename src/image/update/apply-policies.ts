import { visit } from "yaml";
import { parseMarker, type MarkerField } from "./markers.ts";
import { applyTextEdits, checkYaml, lineOf, parseYaml, replaceScalar, scalarText, trailingComment, type TextEdit } from "./yaml-source.ts";

export interface ManifestFile {
  /** Repository-relative path, used in every report. */
  path: string;
  text: string;
}

/** The latest image a policy selected. */
export interface LatestImage {
  /** Repository without tag: `registry.example/team/app`. */
  image: string;
  tag: string;
  digest?: string;
}

export interface ImageChange {
  file: string;
  /** 1-based line of the edited value. */
  line: number;
  old: string;
  new: string;
  /** `namespace:name` of the policy, or another source of the change (set-image's argument). */
  policy: string;
  field: MarkerField | "newName" | "newTag" | "digest" | "images";
}

export interface UpdateError {
  file: string;
  line?: number;
  message: string;
}

export interface UpdateResult {
  /** Only the files that changed, with their new text. */
  files: ManifestFile[];
  changes: ImageChange[];
  errors: UpdateError[];
}

/**
 * Sets every field marked with a Flux-style `$imagepolicy` comment to its policy's latest image:
 * container images, kustomization `images:` entries (newName/newTag/digest) and Helm values alike,
 * since the marker, not the field's place, says what to write. A malformed file is left untouched
 * and reported; so is a marker naming a policy that does not exist (that file is still updated
 * for its other markers).
 */
export function applyImagePolicies(files: readonly ManifestFile[], policies: ReadonlyMap<string, LatestImage>): UpdateResult {
  const result: UpdateResult = { files: [], changes: [], errors: [] };
  for (const file of files) {
    // Only files with a marker can change and are parsed whole; the rest (CRD bundles, say) are
    // only checked, a document at a time.
    if (!file.text.includes("$imagepolicy")) {
      const problem = checkYaml(file.text);
      if (problem) result.errors.push({ file: file.path, ...(problem.line !== undefined ? { line: problem.line } : {}), message: `not valid YAML, left untouched: ${problem.message}` });
      continue;
    }
    const parsed = parseYaml(file.text);
    if (!parsed.ok) {
      result.errors.push({ file: file.path, ...(parsed.error.line !== undefined ? { line: parsed.error.line } : {}), message: `not valid YAML, left untouched: ${parsed.error.message}` });
      continue;
    }
    const { yaml } = parsed;
    const edits: TextEdit[] = [];
    for (const document of yaml.documents) {
      visit(document, {
        Scalar(_key, node) {
          const comment = trailingComment(file.text, node);
          const marker = comment && parseMarker(comment.text);
          if (!marker) return;
          const line = lineOf(yaml, node.range?.[0] ?? 0);
          if ("error" in marker) {
            result.errors.push({ file: file.path, line, message: marker.error });
            return;
          }
          const latest = policies.get(marker.policy);
          if (!latest) {
            result.errors.push({ file: file.path, line, message: `marker names image policy "${marker.policy}", which does not exist` });
            return;
          }
          const value = valueFor(marker.field, latest);
          if (value === undefined) {
            result.errors.push({ file: file.path, line, message: `image policy "${marker.policy}" has no digest for the ":digest" marker (is digest reflection enabled?)` });
            return;
          }
          const old = scalarText(node);
          if (old === value) return;
          edits.push(replaceScalar(node, value));
          result.changes.push({ file: file.path, line, old, new: value, policy: marker.policy, field: marker.field });
        },
      });
    }
    if (edits.length > 0) result.files.push({ path: file.path, text: applyTextEdits(file.text, edits) });
  }
  return result;
}

function valueFor(field: MarkerField, latest: LatestImage): string | undefined {
  switch (field) {
    case "name":
      return latest.image;
    case "tag":
      return latest.tag;
    case "digest":
      return latest.digest;
    case "image":
      return `${latest.image}:${latest.tag}${latest.digest ? `@${latest.digest}` : ""}`;
  }
}
