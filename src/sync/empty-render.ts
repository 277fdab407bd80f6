import { SyncError } from "../apply/errors.ts";

export interface EmptyRenderInput {
  /** Objects the revision rendered. */
  objects: number;
  /** Objects the inventory says this sync applied before. */
  inventoryEntries: number;
  allowEmpty: boolean;
  /** The rendered path, as the user gave it. */
  path?: string;
}

/**
 * A revision that renders nothing while the inventory holds objects is refused unless the
 * user said it may be empty: a typo in a path, or a directory fjord does not read (Jsonnet,
 * templates), would otherwise look like "delete everything" to prune. Argo CD's automated sync
 * guards this the same way (`allowEmpty`). Refused with or without prune, so the mistake is
 * seen before someone adds prune.
 */
export function emptyRenderRefusal(input: EmptyRenderInput): SyncError | undefined {
  if (input.objects > 0 || input.inventoryEntries === 0 || input.allowEmpty) return undefined;
  const what = input.path === undefined ? "the revision" : `path ${input.path}`;
  return new SyncError(
    "empty",
    [
      `${what} rendered no objects, but the inventory holds ${input.inventoryEntries} object(s) applied before: refusing to sync; nothing was applied or pruned`,
      "  fix: check the path and the revision (fjord renders a kustomization, a Helm chart, or .yaml, .yml and .json files);",
      "  if the path is meant to be empty now, set allowEmpty: true on the Application (fjord sync --allow-empty), and with prune everything it applied is deleted",
    ].join("\n"),
  );
}
