/**
 * The `sops` metadata block: key sources, lastmodified, MAC, version and the encryption rule.
 * Read from and written to the tree like sops does: a nested `sops:` map in YAML and JSON,
 * flattened `sops_age__list_0__map_enc=...` keys in dotenv, keys sorted by name on output.
 */
import { SopsProblem } from "./errors.ts";
import { normalizeRfc3339 } from "./go-time.ts";
import { activeRule, RULE_FIELDS, type CryptRules } from "./selectors.ts";
import { getEntry, type Branches, type MapEntry, type MapNode, type SeqNode, type TreeValue } from "./tree.ts";

/** The sops release whose file format fjord writes. */
export const SOPS_FORMAT_VERSION = "3.13.3";

export const METADATA_KEY = "sops";
const FLAT_PREFIX = "sops_";

export interface AgeStanza {
  recipient: string;
  /** An ASCII-armored age file holding the 32-byte data key. */
  enc: string;
}

export interface SopsMetadata {
  /** age entries of a file with one key group (the usual layout). */
  age: AgeStanza[];
  /** Key groups of a file split with Shamir's scheme, each with its own age entries. */
  keyGroups: AgeStanza[][];
  /** Other key sources present (kms, pgp, ...): named in errors, kept verbatim on rewrite. */
  otherKeyTypes: string[];
  /** Metadata entries fjord does not interpret, written back unchanged. */
  extra: MapEntry[];
  lastModified: string;
  /** The encrypted MAC, `ENC[...]`. */
  mac: string;
  version: string;
  /** The one encryption rule in effect. */
  rules: CryptRules;
  macOnlyEncrypted: boolean;
}

const OTHER_KEY_TYPES = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp"];
const RULE_KEYS = new Map(Object.entries(RULE_FIELDS).map(([field, key]) => [key, field as keyof CryptRules]));
const MANAGED = new Set(["age", "lastmodified", "mac", "version", "mac_only_encrypted", ...RULE_KEYS.keys()]);

function invalid(problem: string): SopsProblem {
  return new SopsProblem("invalid-file", `invalid sops metadata: ${problem}`, "restore the file from version control; sops metadata must not be edited by hand");
}

/** A scalar as text, accepting what mapstructure's weak typing accepts. */
function text(value: TreeValue | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.kind !== "scalar") throw invalid(`${field} is not a value`);
  const scalar = value.scalar;
  switch (scalar.type) {
    case "null":
      return undefined;
    case "str":
    case "time":
      return scalar.value;
    case "int":
      return scalar.value.toString();
    case "bool":
      return scalar.value ? "1" : "0";
    default:
      throw invalid(`${field} is not a string`);
  }
}

function bool(value: TreeValue | undefined, field: string): boolean {
  if (value?.kind === "scalar" && value.scalar.type === "bool") return value.scalar.value;
  const raw = text(value, field);
  if (raw === undefined || raw === "" || ["0", "f", "F", "false", "False", "FALSE"].includes(raw)) return false;
  if (["1", "t", "T", "true", "True", "TRUE"].includes(raw)) return true;
  throw invalid(`${field} is not a boolean`);
}

function list(value: TreeValue | undefined, field: string): TreeValue[] {
  if (value === undefined || (value.kind === "scalar" && value.scalar.type === "null")) return [];
  if (value.kind !== "seq") throw invalid(`${field} is not a list`);
  return value.items.filter((item): item is TreeValue => item.kind !== "comment");
}

function ageStanzas(value: TreeValue | undefined, field: string): AgeStanza[] {
  return list(value, field).map((item, index) => {
    if (item.kind !== "map") throw invalid(`${field}[${index}] is not a map`);
    const recipient = text(getEntry(item, "recipient")?.value, `${field}[${index}].recipient`);
    const enc = text(getEntry(item, "enc")?.value, `${field}[${index}].enc`);
    if (!recipient || !enc) throw invalid(`${field}[${index}] needs recipient and enc`);
    return { recipient, enc };
  });
}

export function metadataFromTree(value: TreeValue): SopsMetadata {
  if (value.kind !== "map") throw invalid("the sops entry is not a map");
  const field = (key: string) => getEntry(value, key)?.value;
  const lastModified = text(field("lastmodified"), "lastmodified");
  if (!lastModified || normalizeRfc3339(lastModified) === undefined) throw invalid("lastmodified is missing or not an RFC 3339 time");
  const rules: CryptRules = {};
  for (const [key, name] of RULE_KEYS) {
    const rule = text(field(key), key);
    if (rule) rules[name] = rule;
  }
  let active: CryptRules;
  try {
    active = activeRule(rules);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const groups = list(field("key_groups"), "key_groups").map((group, index) => {
    if (group.kind !== "map") throw invalid(`key_groups[${index}] is not a map`);
    return ageStanzas(getEntry(group, "age")?.value, `key_groups[${index}].age`);
  });
  const otherKeyTypes = OTHER_KEY_TYPES.filter((type) => list(field(type), type).length > 0);
  const metadata: SopsMetadata = {
    age: ageStanzas(field("age"), "age"),
    keyGroups: groups,
    otherKeyTypes,
    extra: value.items.filter((item): item is MapEntry => item.kind === "entry" && !MANAGED.has(item.key)),
    lastModified,
    mac: text(field("mac"), "mac") ?? "",
    version: text(field("version"), "version") ?? "",
    rules: active,
    macOnlyEncrypted: bool(field("mac_only_encrypted"), "mac_only_encrypted"),
  };
  if (metadata.age.length === 0 && groups.length === 0 && otherKeyTypes.length === 0) throw invalid("no keys found in the file");
  return metadata;
}

function scalarEntry(key: string, value: string): MapEntry {
  return { kind: "entry", key, value: { kind: "scalar", scalar: { type: "str", value } } };
}

/** The metadata as sops writes it: keys sorted by name, empty options left out. */
export function metadataToTree(metadata: SopsMetadata): MapNode {
  const entries: MapEntry[] = [...metadata.extra, scalarEntry("lastmodified", metadata.lastModified), scalarEntry("mac", metadata.mac), scalarEntry("version", metadata.version)];
  if (metadata.age.length > 0) {
    const stanzas: SeqNode = {
      kind: "seq",
      items: metadata.age.map((stanza) => ({ kind: "map", items: [scalarEntry("enc", stanza.enc), scalarEntry("recipient", stanza.recipient)] })),
    };
    entries.push({ kind: "entry", key: "age", value: stanzas });
  }
  if (metadata.macOnlyEncrypted) entries.push({ kind: "entry", key: "mac_only_encrypted", value: { kind: "scalar", scalar: { type: "bool", value: true } } });
  for (const [name, key] of Object.entries(RULE_FIELDS)) {
    const rule = metadata.rules[name as keyof CryptRules];
    if (rule) entries.push(scalarEntry(key, rule));
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { kind: "map", items: entries };
}

const MAP_SEPARATOR = "__map_";
const LIST_SEPARATOR = "__list_";

function flattenInto(value: TreeValue, key: string, out: MapEntry[]): void {
  if (value.kind === "map") {
    for (const item of value.items) if (item.kind === "entry") flattenInto(item.value, `${key}${MAP_SEPARATOR}${item.key}`, out);
  } else if (value.kind === "seq") {
    value.items.filter((item): item is TreeValue => item.kind !== "comment").forEach((item, index) => flattenInto(item, `${key}${LIST_SEPARATOR}${index}`, out));
  } else out.push({ kind: "entry", key, value });
}

/** `age__list_0__map_enc` -> ["age", 0, "enc"]. */
function tokenize(key: string): Array<string | number> {
  const tokens: Array<string | number> = [];
  const pattern = /__(map|list)_/g;
  let last = 0;
  let kind = "map";
  for (let match = pattern.exec(key); match; match = pattern.exec(key)) {
    const part = key.slice(last, match.index);
    tokens.push(kind === "list" ? Number(part) : part);
    kind = match[1]!;
    last = match.index + match[0].length;
  }
  const part = key.slice(last);
  tokens.push(kind === "list" ? Number(part) : part);
  return tokens;
}

interface FlatNode {
  value?: TreeValue;
  keys?: Map<string, FlatNode>;
  indices?: Map<number, FlatNode>;
}

function build(node: FlatNode): TreeValue {
  if (node.value) return node.value;
  if (node.keys) {
    const keys = [...node.keys.keys()].sort();
    return { kind: "map", items: keys.map((key) => ({ kind: "entry", key, value: build(node.keys!.get(key)!) })) };
  }
  const indices = node.indices ?? new Map<number, FlatNode>();
  const items: TreeValue[] = [];
  for (let index = 0; index < indices.size; index++) {
    const item = indices.get(index);
    if (!item) throw invalid("a flattened list has gaps");
    items.push(build(item));
  }
  return { kind: "seq", items };
}

function unflatten(entries: MapEntry[]): MapNode {
  const root: FlatNode = {};
  for (const entry of entries) {
    let node = root;
    for (const token of tokenize(entry.key)) {
      let next: FlatNode | undefined;
      if (typeof token === "number") {
        if (!Number.isInteger(token) || token < 0) throw invalid(`${entry.key} has a bad list index`);
        node.indices ??= new Map();
        next = node.indices.get(token) ?? {};
        node.indices.set(token, next);
      } else {
        node.keys ??= new Map();
        next = node.keys.get(token) ?? {};
        node.keys.set(token, next);
      }
      node = next;
    }
    if (node.value) throw invalid(`${entry.key} appears twice`);
    node.value = entry.value;
  }
  const tree = build(root);
  if (tree.kind !== "map") throw invalid("flattened metadata is not a map");
  return tree;
}

export type MetadataLayout = "nested" | "flat";

/** Removes the metadata from the branches; undefined when there is none (a plain file). */
export function extractMetadata(branches: Branches, layout: MetadataLayout): { branches: Branches; metadata: SopsMetadata } | undefined {
  if (layout === "flat") {
    const first = branches[0];
    if (!first) return undefined;
    const flat = first.items.filter((item): item is MapEntry => item.kind === "entry" && item.key.startsWith(FLAT_PREFIX));
    if (flat.length === 0) return undefined;
    const rest: MapNode = { kind: "map", items: first.items.filter((item) => !(item.kind === "entry" && item.key.startsWith(FLAT_PREFIX))) };
    const tree = unflatten(flat.map((item) => ({ ...item, key: item.key.slice(FLAT_PREFIX.length) })));
    return { branches: [rest, ...branches.slice(1)], metadata: metadataFromTree(tree) };
  }
  const found = branches[0]?.items.filter((item): item is MapEntry => item.kind === "entry" && item.key === METADATA_KEY) ?? [];
  if (found.length === 0) return undefined;
  if (found.length > 1) throw invalid("the file has more than one sops entry");
  const stripped = branches.map((branch) => ({ kind: "map" as const, items: branch.items.filter((item) => !(item.kind === "entry" && item.key === METADATA_KEY)) }));
  return { branches: stripped, metadata: metadataFromTree(found[0]!.value) };
}

/** Adds the metadata to every branch, as sops does for each document of a YAML stream. */
export function attachMetadata(branches: Branches, metadata: SopsMetadata, layout: MetadataLayout): Branches {
  const tree = metadataToTree(metadata);
  const reserved = (key: string) => (layout === "flat" ? key.startsWith(FLAT_PREFIX) : key === METADATA_KEY);
  for (const branch of branches) {
    for (const item of branch.items) {
      if (item.kind === "entry" && reserved(item.key)) {
        throw new SopsProblem("invalid-input", `the key ${item.key} is reserved for sops metadata`, "rename the key");
      }
    }
  }
  if (layout === "flat") {
    const flat: MapEntry[] = [];
    flattenInto(tree, "sops", flat);
    // flattenInto joins with "__map_"; the top level uses "sops_" instead.
    const entries = flat.map((entry) => ({ ...entry, key: `${FLAT_PREFIX}${entry.key.slice(`sops${MAP_SEPARATOR}`.length)}` }));
    return branches.map((branch, index) => (index === 0 ? { kind: "map", items: [...branch.items, ...entries] } : branch));
  }
  return branches.map((branch) => ({ kind: "map", items: [...branch.items, { kind: "entry", key: METADATA_KEY, value: tree }] }));
}
