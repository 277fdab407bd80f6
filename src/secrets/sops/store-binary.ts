/**
 * Any other file: sops encrypts its bytes as one string, the `data` value of a JSON document
 * (`{"data": "ENC[...]", "sops": {...}}`).
 */
import { SopsProblem } from "./errors.ts";
import { getEntry, type MapNode } from "./tree.ts";

export function loadBinaryPlain(content: Uint8Array): MapNode {
  const text = new TextDecoder().decode(content);
  const scalar = Buffer.from(text, "utf8").equals(content) ? ({ type: "str", value: text } as const) : ({ type: "bytes", value: content } as const);
  return { kind: "map", items: [{ kind: "entry", key: "data", value: { kind: "scalar", scalar } }] };
}

export function emitBinaryPlain(branch: MapNode): Buffer {
  const data = getEntry(branch, "data")?.value;
  if (data?.kind === "scalar" && data.scalar.type === "bytes") return Buffer.from(data.scalar.value);
  if (data?.kind !== "scalar" || data.scalar.type !== "str") {
    throw new SopsProblem("invalid-file", "no binary data found: the document has no string `data` value", "if this is not an encrypted binary file, give its type (yaml, json or dotenv)");
  }
  return Buffer.from(data.scalar.value, "utf8");
}
