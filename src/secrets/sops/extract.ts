/** sops's `--extract '["data"]["key"]'`: one value of a decrypted document. */
import type { SopsFormat } from "./document.ts";
import { emitPlain } from "./document.ts";
import { SopsProblem } from "./errors.ts";
import { formatGoFloat } from "./go-format.ts";
import { emitJsonValue } from "./store-json.ts";
import { emitYamlValue } from "./store-yaml.ts";
import { truncate, type Branches, type TreeValue } from "./tree.ts";
import { yamlScalarText } from "./yaml-scalar.ts";

/** `["a"][0]['b']` -> ["a", 0, "b"], with sops's syntax: quoted names, bare indices. */
export function parseExtractPath(text: string): Array<string | number> {
  const path: Array<string | number> = [];
  for (const component of text.split("[")) {
    if (component === "") continue;
    if (!component.endsWith("]")) throw new SopsProblem("invalid-input", `--extract component [${component} does not end with ]`);
    const inner = component.slice(0, -1);
    if (/^(["']).*\1$/.test(inner) && inner.length >= 2) path.push(inner.slice(1, -1));
    else if (/^[+-]?\d+$/.test(inner)) path.push(Number(inner));
    else throw new SopsProblem("invalid-input", `--extract component [${inner}] is neither a quoted key nor an index`);
  }
  return path;
}

function scalarOutput(value: Extract<TreeValue, { kind: "scalar" }>, format: SopsFormat): Buffer {
  const scalar = value.scalar;
  switch (scalar.type) {
    // Strings come out raw, without a newline, so they can be piped.
    case "str":
      return Buffer.from(scalar.value, "utf8");
    case "bytes":
      return Buffer.from(scalar.value);
    case "null":
      return Buffer.from(format === "json" ? "null" : "null\n");
    case "float":
      if (format === "json") return Buffer.from(formatGoFloat(scalar.value));
      return Buffer.from(`${yamlScalarText(scalar)}\n`);
    default:
      return Buffer.from(format === "json" ? yamlScalarText(scalar) : `${yamlScalarText(scalar)}\n`);
  }
}

export function extractValue(branches: Branches, path: ReadonlyArray<string | number>, format: SopsFormat): Buffer {
  const first = branches[0];
  if (!first) throw new SopsProblem("invalid-input", "the document is empty");
  let value: TreeValue;
  try {
    value = truncate(first, path);
  } catch (error) {
    throw new SopsProblem("invalid-input", `--extract: ${(error as Error).message}`);
  }
  if (value.kind === "map") return emitPlain([value], format);
  if (value.kind === "scalar") return scalarOutput(value, format);
  if (format === "json") return Buffer.from(emitJsonValue(value), "utf8");
  return Buffer.from(emitYamlValue(value), "utf8");
}
