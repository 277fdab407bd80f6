/**
 * The format-independent shape of a SOPS document, mirroring sops's own TreeBranch: ordered
 * maps (never JS objects, whose integer-like keys would jump to the front and break the MAC),
 * sequences, comments as items of their own, and scalars typed the way Go decodes them.
 */

export type SopsScalar =
  | { type: "str"; value: string }
  /** Go's `int` is 64-bit; bigint keeps values past 2^53 exact. */
  | { type: "int"; value: bigint }
  | { type: "float"; value: number }
  | { type: "bool"; value: boolean }
  /** Go's time.Time, kept as its MarshalText form (RFC 3339 with nanoseconds). */
  | { type: "time"; value: string }
  /** Only produced by decrypting `type:bytes` values (written by the old Python sops). */
  | { type: "bytes"; value: Uint8Array }
  | { type: "null" };

export interface CommentItem {
  kind: "comment";
  /** The comment without its leading `#`. */
  text: string;
  /** Written after a value on the same line rather than on a line of its own. */
  inline?: boolean;
}

export interface ScalarNode {
  kind: "scalar";
  scalar: SopsScalar;
}

export interface MapEntry {
  kind: "entry";
  key: string;
  value: TreeValue;
}

export interface MapNode {
  kind: "map";
  items: Array<MapEntry | CommentItem>;
}

export interface SeqNode {
  kind: "seq";
  items: Array<TreeValue | CommentItem>;
}

export type TreeValue = MapNode | SeqNode | ScalarNode;

/** One map per document: YAML streams hold several, every other format one. */
export type Branches = MapNode[];

export function str(value: string): ScalarNode {
  return { kind: "scalar", scalar: { type: "str", value } };
}

export function entry(key: string, value: TreeValue): MapEntry {
  return { kind: "entry", key, value };
}

export function mapNode(items: Array<MapEntry | CommentItem> = []): MapNode {
  return { kind: "map", items };
}

/** The value of `key` in `map`, when present. */
export function getEntry(map: MapNode, key: string): MapEntry | undefined {
  return map.items.find((item): item is MapEntry => item.kind === "entry" && item.key === key);
}

/** Follows sops's `--extract` path (`["data"]["key"]`, `[0]`) through a branch. */
export function truncate(branch: MapNode, path: ReadonlyArray<string | number>): TreeValue {
  let current: TreeValue = branch;
  for (const component of path) {
    if (typeof component === "string") {
      if (current.kind !== "map") throw new Error(`component ["${component}"] not found: the value there is not a map`);
      const found = getEntry(current, component);
      if (!found) throw new Error(`component ["${component}"] not found`);
      current = found.value;
    } else {
      if (current.kind !== "seq") throw new Error(`component [${component}] is an index, but the value there is not a list`);
      // Like sops, comments count as list items here.
      const found: TreeValue | CommentItem | undefined = current.items[component];
      if (!found) throw new Error(`component [${component}] is out of bounds`);
      if (found.kind === "comment") throw new Error(`component [${component}] is a comment`);
      current = found;
    }
  }
  return current;
}
