/**
 * Text from Git (file names, commit messages, tool output) shown to a person: on a terminal, in
 * a status message, in an Event. Control characters (C0, DEL, C1), line and paragraph separators
 * and bidirectional overrides would let such text rewrite a terminal line or disguise what a
 * message says, so they are shown as \u escapes.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same, but a line break or tab in a multi-line text is fine.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (character: string) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** A one-line name (a file, a ref) as it may be shown; cut to `maxChars` when given. */
export function displayName(name: string, maxChars?: number): string {
  const escaped = name.replace(UNSAFE_IN_NAMES, escape);
  return maxChars !== undefined && escaped.length > maxChars ? `${escaped.slice(0, maxChars - 3)}...` : escaped;
}

/** A text that may span lines, with everything but line breaks and tabs that could rewrite a display escaped. */
export function displayText(text: string): string {
  return text.replace(UNSAFE_IN_TEXT, escape);
}
