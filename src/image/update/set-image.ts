import { isMap, isScalar, isSeq, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import type { ImageChange, ManifestFile, UpdateError, UpdateResult } from "./apply-policies.ts";
import { mayHoldSecrets } from "../../input/secret-text.ts";
import { describeConversionError } from "../../input/yaml.ts";
import { containersIn, stringField } from "./containers.ts";
import { settingApplied, settingMatches, type ImageSetting } from "./image-setting.ts";
import {
  applyTextEdits,
  formatScalarLike,
  indentationAt,
  lineBreakOf,
  lineEndAt,
  lineOf,
  lineStartAt,
  parseYaml,
  primitiveText,
  replaceScalar,
  scalarText,
  type ParsedYaml,
  type TextEdit,
} from "./yaml-source.ts";

export type { ImageSetting } from "./image-setting.ts";
export { ImageSettingError, parseImageSetting } from "./image-setting.ts";

/** kustomize's field order for an `images:` entry. */
const ENTRY_FIELDS = ["newName", "newTag", "digest"] as const;
type EntryField = (typeof ENTRY_FIELDS)[number];

/**
 * The `fjord set-image` edit. With a kustomization (`kustomization` names it among `files`), its
 * `images:` entry for each name is updated, or added when none matches, as `kustomize edit set
 * image` would. Without one, every container image in the files whose name matches is set. A
 * setting that matches nothing in plain YAML is an error; so is a malformed file, which is left
 * untouched.
 */
export function setImages(files: readonly ManifestFile[], settings: readonly ImageSetting[], options: { kustomization?: string } = {}): UpdateResult {
  if (options.kustomization !== undefined) {
    const file = files.find((candidate) => candidate.path === options.kustomization);
    if (!file) return { files: [], changes: [], errors: [{ file: options.kustomization, message: "kustomization not found" }] };
    return setKustomizationImages(file, settings);
  }
  return setContainerImages(files, settings);
}

function setContainerImages(files: readonly ManifestFile[], settings: readonly ImageSetting[]): UpdateResult {
  const result: UpdateResult = { files: [], changes: [], errors: [] };
  const matched = new Set<ImageSetting>();
  for (const file of files) {
    const parsed = parseYaml(file.text);
    if (!parsed.ok) {
      result.errors.push(malformed(file.path, parsed.error));
      continue;
    }
    const edits: TextEdit[] = [];
    for (const document of parsed.yaml.documents) {
      for (const container of containersIn(document)) {
        const current = scalarText(container.image);
        const setting = settings.find((candidate) => settingMatches(current, candidate));
        if (!setting) continue;
        matched.add(setting);
        const next = settingApplied(current, setting);
        if (next === current) continue;
        edits.push(replaceScalar(container.image, next));
        result.changes.push({ file: file.path, line: lineOf(parsed.yaml, container.image.range?.[0] ?? 0), old: current, new: next, policy: setting.spec, field: "image" });
      }
    }
    if (edits.length > 0) result.files.push({ path: file.path, text: applyTextEdits(file.text, edits) });
  }
  for (const setting of settings) {
    if (!matched.has(setting) && result.errors.length === 0) {
      result.errors.push({ file: ".", message: `no container image named "${setting.name}"${setting.newName && setting.newName !== setting.name ? ` or "${setting.newName}"` : ""} found (--image ${setting.spec})` });
    }
  }
  return result;
}

function setKustomizationImages(file: ManifestFile, settings: readonly ImageSetting[]): UpdateResult {
  const result: UpdateResult = { files: [], changes: [], errors: [] };
  let text = file.text;
  // One setting at a time, re-reading in between: an added entry must be seen by the next one.
  for (const setting of settings) {
    const parsed = parseYaml(text);
    if (!parsed.ok) {
      result.errors.push(malformed(file.path, parsed.error));
      return result;
    }
    const edit = kustomizationEdit(parsed.yaml, file.path, setting);
    if ("error" in edit) {
      result.errors.push(edit.error);
      return result;
    }
    if (edit.edits.length === 0) continue;
    const next = applyTextEdits(text, edit.edits);
    const check = verifyEntry(next, setting);
    if (check) {
      result.errors.push({ file: file.path, message: `could not update the images: entry for "${setting.name}" without disturbing the file (${check}); edit it by hand` });
      return result;
    }
    text = next;
    result.changes.push(...edit.changes);
  }
  if (text !== file.text) result.files.push({ path: file.path, text });
  return result;
}

type KustomizationEdit = { edits: TextEdit[]; changes: ImageChange[] } | { error: UpdateError };

function kustomizationEdit(yaml: ParsedYaml, path: string, setting: ImageSetting): KustomizationEdit {
  const document = yaml.documents[0];
  const root = document?.contents;
  if (!document || !isMap(root)) return { error: { file: path, message: "not a kustomization (expected a mapping)" } };
  const imagesPair = root.items.find((pair) => isScalar(pair.key) && pair.key.value === "images");
  const images = imagesPair?.value;
  if (images !== undefined && images !== null && !isSeq(images) && !(isScalar(images) && images.value === null)) {
    return { error: { file: path, line: lineOf(yaml, (imagesPair?.key as Scalar).range?.[0] ?? 0), message: "images: is not a list" } };
  }
  const entry = isSeq(images) ? (images.items as unknown[]).filter((item): item is YAMLMap => isMap(item)).find((item) => stringField(item, "name") === setting.name) : undefined;
  if (entry) return updateEntry(yaml, path, entry, setting);
  return addEntry(yaml, path, root, imagesPair, setting);
}

function wanted(setting: ImageSetting): Partial<Record<EntryField, string | null>> {
  const pinned = setting.newTag !== undefined || setting.digest !== undefined;
  return {
    ...(setting.newName !== undefined ? { newName: setting.newName } : {}),
    ...(setting.newTag !== undefined ? { newTag: setting.newTag } : pinned ? { newTag: null } : {}),
    ...(setting.digest !== undefined ? { digest: setting.digest } : pinned ? { digest: null } : {}),
  };
}

function updateEntry(yaml: ParsedYaml, path: string, entry: YAMLMap, setting: ImageSetting): KustomizationEdit {
  const { text } = yaml;
  const edits: TextEdit[] = [];
  const changes: ImageChange[] = [];
  if (entry.flow) return { error: { file: path, line: lineOf(yaml, entry.range?.[0] ?? 0), message: `the images: entry for "${setting.name}" is written in flow style ({...}); fjord only edits block entries` } };
  const firstKey = entry.items[0]?.key as Scalar | undefined;
  const keyIndent = " ".repeat(yaml.lines.linePos(firstKey?.range?.[0] ?? 0).col - 1);
  const removed = new Set(ENTRY_FIELDS.filter((field) => wanted(setting)[field] === null));
  // New lines go after the last line that stays, so an insertion never lands inside a removal.
  const kept = entry.items.filter((pair) => !(isScalar(pair.key) && removed.has(pair.key.value as EntryField)));
  const lastEnd = Math.max(...kept.map((pair) => nodeEnd(pair)));
  const additions: string[] = [];
  for (const field of ENTRY_FIELDS) {
    const value = wanted(setting)[field];
    if (value === undefined) continue;
    const pair = entry.items.find((candidate) => isScalar(candidate.key) && candidate.key.value === field);
    const current = pair && isScalar(pair.value) ? scalarText(pair.value) : undefined;
    const line = lineOf(yaml, (pair?.key as Scalar | undefined)?.range?.[0] ?? lastEnd);
    if (value === null) {
      if (!pair) continue;
      edits.push(removeLine(text, pair));
      changes.push({ file: path, line, old: current ?? "", new: "", policy: setting.spec, field });
    } else if (pair && isScalar(pair.value)) {
      if (current === value) continue;
      edits.push(replaceScalar(pair.value, value));
      changes.push({ file: path, line, old: current ?? "", new: value, policy: setting.spec, field });
    } else if (pair) {
      return { error: { file: path, line, message: `${field} of the images: entry for "${setting.name}" is not a plain value` } };
    } else {
      additions.push(`${keyIndent}${field}: ${formatScalarLike(value, undefined)}`);
      changes.push({ file: path, line: lineOf(yaml, lastEnd) + 1, old: "", new: value, policy: setting.spec, field });
    }
  }
  if (additions.length > 0) {
    const at = lineEndAt(text, lastEnd - 1);
    const br = lineBreakOf(text);
    edits.push({ start: at, end: at, replacement: additions.map((line) => br + line).join("") });
  }
  return { edits, changes };
}

function addEntry(yaml: ParsedYaml, path: string, root: YAMLMap, imagesPair: Pair | undefined, setting: ImageSetting): KustomizationEdit {
  const { text } = yaml;
  const br = lineBreakOf(text);
  const fields = ENTRY_FIELDS.flatMap((field) => {
    const value = wanted(setting)[field];
    return typeof value === "string" ? [[field, value] as const] : [];
  });
  const change = (line: number): ImageChange[] => [{ file: path, line, old: "", new: setting.spec, policy: setting.spec, field: "images" }];
  const images = imagesPair?.value;

  if (isSeq(images) && images.flow) {
    const entry = `{${[["name", setting.name] as const, ...fields].map(([key, value]) => `${key}: ${formatScalarLike(value, undefined)}`).join(", ")}}`;
    const close = (images.range?.[1] ?? 0) - 1;
    return { edits: [{ start: close, end: close, replacement: `${images.items.length > 0 ? ", " : ""}${entry}` }], changes: change(lineOf(yaml, close)) };
  }
  if (isSeq(images) && images.items.length > 0) {
    const first = images.items[0] as YAMLMap | Scalar;
    const dashIndent = indentationAt(text, first.range?.[0] ?? 0);
    const keyIndent = " ".repeat(yaml.lines.linePos(first.range?.[0] ?? 0).col - 1);
    const lines = [`${dashIndent}- name: ${formatScalarLike(setting.name, undefined)}`, ...fields.map(([key, value]) => `${keyIndent}${key}: ${formatScalarLike(value, undefined)}`)];
    const at = lineEndAt(text, Math.max(...images.items.map((item) => (item as YAMLMap).range?.[2] ?? 0)) - 1);
    return { edits: [{ start: at, end: at, replacement: lines.map((line) => br + line).join("") }], changes: change(lineOf(yaml, at) + 1) };
  }
  const entryLines = (indent: string) => [`${indent}- name: ${formatScalarLike(setting.name, undefined)}`, ...fields.map(([key, value]) => `${indent}  ${key}: ${formatScalarLike(value, undefined)}`)];
  if (imagesPair) {
    // `images:` with nothing (or an empty block) after it: the list goes right under the key.
    const key = imagesPair.key as Scalar;
    const indent = indentationAt(text, key.range?.[0] ?? 0);
    const at = lineEndAt(text, key.range?.[0] ?? 0);
    return { edits: [{ start: at, end: at, replacement: br + entryLines(indent).join(br) }], changes: change(lineOf(yaml, at) + 1) };
  }
  const end = text.length;
  const lead = end === 0 || text.endsWith("\n") ? "" : br;
  const rootIndent = indentationAt(text, root.range?.[0] ?? 0);
  return {
    edits: [{ start: end, end, replacement: `${lead}${rootIndent}images:${br}${entryLines(rootIndent).join(br)}${br}` }],
    changes: change(text.split("\n").length + (lead ? 1 : 0)),
  };
}

/** Removes a whole `key: value` line (with any comment on it). */
function removeLine(text: string, pair: Pair): TextEdit {
  const start = lineStartAt(text, (pair.key as Scalar).range?.[0] ?? 0);
  const end = lineEndAt(text, nodeEnd(pair) - 1);
  return { start, end: Math.min(text.length, end + 1), replacement: "" };
}

function nodeEnd(pair: Pair): number {
  const value = pair.value as Scalar | YAMLMap | YAMLSeq | null;
  return value?.range?.[2] ?? (pair.key as Scalar).range?.[2] ?? 0;
}

/** Re-reads the edited kustomization and says what is wrong with its entry, if anything. */
function verifyEntry(text: string, setting: ImageSetting): string | undefined {
  const parsed = parseYaml(text);
  if (!parsed.ok) return parsed.error.message;
  let content: unknown;
  try {
    // Aliases were counted and their expansion measured by parseYaml, within fjord's limits; the
    // package's own default (100 aliases) would throw on a file fjord accepts. An alias with no
    // anchor or a bad merge key surfaces only here.
    content = parsed.yaml.documents[0]?.toJS({ maxAliasCount: -1 });
  } catch (error) {
    return `the kustomization cannot be read after the edit (${describeConversionError(error, !mayHoldSecrets(text))})`;
  }
  const images = (content as { images?: Record<string, unknown>[] } | undefined)?.images;
  const entries = (images ?? []).filter((image) => image.name === setting.name);
  if (entries.length !== 1) return `${entries.length} entries named "${setting.name}"`;
  const entry = entries[0] ?? {};
  for (const [field, value] of Object.entries(wanted(setting))) {
    const actual = entry[field] === undefined ? null : primitiveText(entry[field]);
    if (actual !== value) return `${field} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`;
  }
  return undefined;
}

function malformed(file: string, error: { line?: number; message: string }): UpdateError {
  return { file, ...(error.line !== undefined ? { line: error.line } : {}), message: `not valid YAML, left untouched: ${error.message}` };
}
