/**
 * spec.template.data: upstream renders each value as a Go text/template (with sprig) over the
 * decrypted values. fjord renders the two forms that reference values, `{{ .key }}` and
 * `{{ index . "key" }}`, and refuses anything else rather than producing a different Secret
 * than upstream would.
 */

const ACTION = /\{\{\s*(?:\.([A-Za-z_][A-Za-z0-9_]*)|index\s+\.\s+"((?:[^"\\]|\\.)*)")\s*\}\}/g;

export class TemplateDataError extends Error {
  override readonly name = "TemplateDataError";
}

/**
 * The key a `{{ index . "..." }}` names. Go's and JSON's string escapes differ (`\x41`, `\101`
 * and `\a` are Go's only); a key JSON cannot read is refused rather than read another way.
 */
function quotedKey(templateKey: string, literal: string): string {
  try {
    return JSON.parse(`"${literal}"`) as string;
  } catch {
    throw new TemplateDataError(`spec.template.data.${templateKey} names a key in a quoted string with an escape fjord does not read; write the key without escapes`);
  }
}

/**
 * The rendered value; errors name the template key and the referenced key, never values. A
 * result longer than `maxBytes` is refused before it is built: references can repeat a large
 * value without bound.
 */
export function renderTemplateValue(key: string, template: string, values: ReadonlyMap<string, Buffer>, maxBytes = Infinity): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const add = (part: Buffer) => {
    length += part.length;
    if (length > maxBytes) throw new TemplateDataError(`spec.template.data.${key} renders to more than ${maxBytes} bytes, beyond what a Secret may hold`);
    parts.push(part);
  };
  let last = 0;
  for (const match of template.matchAll(ACTION)) {
    const literal = template.slice(last, match.index);
    if (literal.includes("{{")) break;
    add(Buffer.from(literal, "utf8"));
    const referenced = match[1] ?? quotedKey(key, match[2] ?? "");
    const value = values.get(referenced);
    if (!value) throw new TemplateDataError(`spec.template.data.${key} refers to "${referenced}", which spec.encryptedData does not hold`);
    add(value);
    last = match.index + match[0].length;
  }
  const rest = template.slice(last);
  if (rest.includes("{{")) {
    throw new TemplateDataError(`spec.template.data.${key} uses a template form fjord does not render (only {{ .key }} and {{ index . "key" }} are supported)`);
  }
  add(Buffer.from(rest, "utf8"));
  return Buffer.concat(parts, length);
}
