/**
 * Every way reading or writing a SOPS file can fail. Messages name the file and say what to do;
 * they may name paths of keys and age recipients (both are clear text in the file anyway) but
 * never a value, a data key or an identity.
 */
export type SopsErrorCode =
  /** The text has no SOPS metadata. */
  | "not-encrypted"
  /** The file or its metadata cannot be read. */
  | "invalid-file"
  /** Something sops can write but fjord does not read (other key types only, Shamir groups). */
  | "unsupported"
  /** No age identity was given at all. */
  | "no-identities"
  /** None of the given identities is a recipient of the file. */
  | "no-matching-key"
  /** An identity matches a recipient by name, but does not decrypt its data key. */
  | "wrong-key"
  /** A value or the MAC does not authenticate: the file was changed after encryption. */
  | "tampered"
  /** Encryption input that sops would refuse too. */
  | "invalid-input";

export class SopsError extends Error {
  override readonly name = "SopsError";
  readonly code: SopsErrorCode;
  readonly file: string;
  readonly problem: string;
  readonly fix?: string;

  constructor(code: SopsErrorCode, file: string, problem: string, fix?: string) {
    super(`${file}: ${problem}${fix ? `\n  fix: ${fix}` : ""}`);
    this.code = code;
    this.file = file;
    this.problem = problem;
    if (fix !== undefined) this.fix = fix;
  }
}

/** Internal failures below the document layer carry a code; the document layer adds the file. */
export class SopsProblem extends Error {
  readonly code: SopsErrorCode;
  readonly fix?: string;

  constructor(code: SopsErrorCode, problem: string, fix?: string) {
    super(problem);
    this.code = code;
    if (fix !== undefined) this.fix = fix;
  }
}

/** Names the file in a problem raised without one; other errors pass through unchanged. */
export function inFile(error: unknown, file: string): unknown {
  if (error instanceof SopsProblem) return new SopsError(error.code, file, error.message, error.fix);
  return error;
}
