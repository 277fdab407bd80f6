import { formatBytes, MAX_JSON_BYTES, MAX_NESTING_DEPTH } from "./limits.ts";

/** JSON from outside that exceeds a limit, or is not JSON; the message never quotes it. */
export class JsonInputError extends Error {
  override readonly name = "JsonInputError";
}

/** The deepest nesting of arrays and objects in a JSON text, without parsing it. */
function nestingDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      if (++depth > deepest && (deepest = depth) > stopAbove) return deepest;
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

/**
 * JSON.parse for text from outside (a registry's answer, a Secret, a Git file): refused when
 * larger than `maxBytes` or nested deeper than MAX_NESTING_DEPTH. V8 parses deep JSON fine, but
 * everything that walks the result afterwards (JSON.stringify included) recurses per level.
 */
export function parseBoundedJson(text: string, what: string, maxBytes: number = MAX_JSON_BYTES): unknown {
  if (text.length > maxBytes) throw new JsonInputError(`${what} is larger than ${formatBytes(maxBytes)} (fjord's limit)`);
  if (nestingDepth(text, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH) throw new JsonInputError(`${what} is nested deeper than ${MAX_NESTING_DEPTH} levels (fjord's limit)`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8's message quotes the text around the error; say only that it is not JSON.
    throw new JsonInputError(`${what} is not valid JSON`, { cause: error });
  }
}
