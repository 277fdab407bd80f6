/**
 * dotenv files <-> the SOPS tree, as sops reads them: `KEY=value` lines (values verbatim
 * after the first `=`, `\n` standing for a newline), `#` lines as comments, no quoting rules.
 */
import { formatCount, MAX_DOCUMENT_TOKENS } from "../../input/limits.ts";
import { SopsProblem } from "./errors.ts";
import { formatGoFloat } from "./go-format.ts";
import type { MapNode, SopsScalar } from "./tree.ts";

/** Every line becomes a tree node of about a hundred bytes; the same bound as one YAML document. */
const MAX_LINES = MAX_DOCUMENT_TOKENS;

export function loadDotenv(text: string): MapNode {
  const branch: MapNode = { kind: "map", items: [] };
  let count = 1;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) {
    if (++count > MAX_LINES) throw new SopsProblem("invalid-file", `more than ${formatCount(MAX_LINES)} lines (fjord's limit)`);
  }
  text.split("\n").forEach((line, index) => {
    if (line === "") return;
    if (line.startsWith("#")) {
      branch.items.push({ kind: "comment", text: line.slice(1) });
      return;
    }
    const equals = line.indexOf("=");
    // The line itself may hold a secret: only its number is reported.
    if (equals < 0) throw new SopsProblem("invalid-file", `line ${index + 1} is not KEY=value`);
    branch.items.push({ kind: "entry", key: line.slice(0, equals), value: { kind: "scalar", scalar: { type: "str", value: line.slice(equals + 1).replaceAll("\\n", "\n") } } });
  });
  return branch;
}

/** sops's ValToString, for values that did not come from a dotenv file. */
function valueText(scalar: SopsScalar): string {
  switch (scalar.type) {
    case "str":
      return scalar.value.replaceAll("\n", "\\n");
    case "int":
      return scalar.value.toString();
    case "float": {
      const text = formatGoFloat(scalar.value);
      return /[.eEIN]/.test(text) ? text : `${text}.0`;
    }
    case "bool":
      return String(scalar.value);
    case "time":
      return scalar.value;
    case "bytes":
      return Buffer.from(scalar.value).toString("utf8");
    case "null":
      return "<nil>";
  }
}

export function emitDotenv(branch: MapNode): string {
  return branch.items
    .map((item) => {
      if (item.kind === "comment") return `#${item.text}\n`;
      if (item.value.kind !== "scalar") throw new SopsProblem("invalid-input", `cannot use a nested value in a dotenv file (key ${item.key})`);
      return `${item.key}=${valueText(item.value.scalar)}\n`;
    })
    .join("");
}
