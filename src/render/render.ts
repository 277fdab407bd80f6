/**
 * Turns a directory of a Git checkout into the Kubernetes objects it declares: a kustomization
 * is built with kustomize, a chart with `helm template`, anything else is read as plain
 * manifests. Every object remembers the repository file it came from.
 */
import type { RenderedObject } from "../model/object.ts";
import { assertNoEncryptedObjects, withDecryptedSources, type DecryptionSettings } from "./decryption.ts";
import { assertNoDuplicates } from "./duplicates.ts";
import { renderHelmChart, type HelmSettings } from "./helm.ts";
import { chooseKustomizeTool, renderKustomization } from "./kustomize.ts";
import { assertKustomizeInputsBounded } from "./kustomize-inputs.ts";
import { findKustomizationFile, hasChart } from "./package-files.ts";
import { resolveRenderDirectory } from "./paths.ts";
import { renderPlainDirectory } from "./plain.ts";
import { assertSymlinksConfined } from "./symlink-guard.ts";
import { DEFAULT_RENDER_LIMITS, RenderBudget } from "./render-budget.ts";
import type { RenderWarning } from "./warnings.ts";

export { RenderError, type RenderErrorCode } from "./errors.ts";
export type { RenderWarning, RenderWarningCode } from "./warnings.ts";
export type { HelmSettings } from "./helm.ts";
export type { DecryptionSettings } from "./decryption.ts";

export interface RenderOptions {
  /** The repository checkout; paths in errors and sources are relative to it. */
  root: string;
  /** The directory inside root to render ("." for the root itself). */
  path: string;
  /** Not applied here: namespaces are defaulted when applying. */
  defaultNamespace?: string;
  /** Default: `kustomize` on PATH, else `kubectl kustomize`. */
  kustomizeBinary?: string;
  /** Default: `helm` on PATH. */
  helmBinary?: string;
  /** Used for `kubectl kustomize` when there is no kustomize binary. Default: `kubectl` on PATH. */
  kubectlBinary?: string;
  /** Let kustomizations fetch remote bases over the network. Default false. */
  allowRemoteBases?: boolean;
  helm?: HelmSettings;
  /** gitignore-style patterns, relative to `path`, of files to skip in a plain directory. */
  ignore?: string[];
  /** Limit for each external command. Default 60 s. */
  timeoutMs?: number;
  /** Decrypt the SOPS files the render reads. Without it, SOPS-encrypted objects are an error. */
  decryption?: DecryptionSettings;
  /**
   * The root is a checkout that never changes (the controller's): checks of the whole tree are
   * done once per root and remembered. Leave unset for a working directory someone may edit.
   */
  immutableRoot?: boolean;
  /**
   * Told what the render skipped without failing (files of a plain directory it does not read),
   * so a caller can show it: the CLI on stderr, the controller on the Application's status.
   */
  onWarning?: (warning: RenderWarning) => void;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export async function render(options: RenderOptions): Promise<RenderedObject[]> {
  const { decryption } = options;
  // Before anything reads the tree: helm and kustomize would follow a link out of it.
  const { rootReal } = await resolveRenderDirectory(options.root, options.path);
  await assertSymlinksConfined(rootReal, { immutable: options.immutableRoot ?? false });
  const objects = decryption
    ? // A root other than the checkout is the private copy holding decrypted files: no error may quote from it.
      await withDecryptedSources({ root: options.root, path: options.path, ignore: options.ignore ?? [], decryption }, (root) => renderTree({ ...options, root }, new RenderBudget(DEFAULT_RENDER_LIMITS, root !== options.root)))
    : await renderTree(options, new RenderBudget());
  assertNoEncryptedObjects(objects, decryption !== undefined);
  return objects;
}

async function renderTree(options: RenderOptions, budget: RenderBudget): Promise<RenderedObject[]> {
  const dir = await resolveRenderDirectory(options.root, options.path);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let objects: RenderedObject[];
  const kustomizationFile = await findKustomizationFile(dir.dirReal);
  if (kustomizationFile) {
    await assertKustomizeInputsBounded(dir, budget);
    objects = await renderKustomization({
      dir,
      kustomizationFile,
      tool: chooseKustomizeTool(options),
      timeoutMs,
      allowRemoteBases: options.allowRemoteBases ?? false,
      budget,
    });
  } else if (await hasChart(dir.dirReal)) {
    objects = await renderHelmChart({ dir, helmBinary: options.helmBinary ?? "helm", timeoutMs, settings: options.helm ?? {}, budget });
  } else {
    objects = await renderPlainDirectory(dir, options.ignore ?? [], budget, options.onWarning);
  }
  assertNoDuplicates(objects);
  return objects;
}
