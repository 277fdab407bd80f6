/**
 * Whether a text may be quoted in an error message, a status or an Event. Errors point at a
 * file, line and column; they quote the offending line only when nothing on it can be a secret.
 */

/**
 * A Secret-like kind (Secret, SealedSecret, ExternalSecret...; any case, quoted or tagged, in
 * YAML or JSON), SOPS metadata (`sops:`, `sops_mac=`) or a SOPS ciphertext.
 */
const SECRET_HINT = /["']?\bkind["']?\s*:\s*(?:!!?[\w:./-]*\s+)?["']?\w*secret\b|\bsops(?:_|\b)|ENC\[/i;

/** A `kind:` key (YAML or JSON, any indentation). */
const KIND_KEY = /(?:^|[{,])[ \t]*["']?kind["']?[ \t]*:/m;

export function mayHoldSecrets(text: string): boolean {
  return SECRET_HINT.test(text);
}

/**
 * A line of `document` (one document of `text`) may be quoted only when the whole text shows no
 * sign of secrets and the document says what it is: a document whose kind cannot be known (it
 * broke before `kind:`, or has none) could be anything, a Secret included.
 */
export function mayQuoteFrom(text: string, document: string): boolean {
  return !mayHoldSecrets(text) && KIND_KEY.test(document);
}

const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;

/** The document of a YAML stream that holds `offset` (from its `---` to the next). */
export function documentAround(text: string, offset: number): string {
  let start = 0;
  let end = text.length;
  for (const match of text.matchAll(DOCUMENT_MARKER)) {
    if (match.index <= offset) start = match.index;
    else {
      end = match.index;
      break;
    }
  }
  return text.slice(start, end);
}
