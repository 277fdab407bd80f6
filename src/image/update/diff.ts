import { createTwoFilesPatch } from "diff";
import type { ManifestFile } from "./apply-policies.ts";

/** A `git diff`-style unified diff of the files that changed; new files diff against nothing. */
export function unifiedDiff(before: readonly ManifestFile[], after: readonly ManifestFile[]): string {
  const original = new Map(before.map((file) => [file.path, file.text]));
  return after
    .filter((file) => original.get(file.path) !== file.text)
    .map((file) => {
      const old = original.get(file.path);
      const patch = createTwoFilesPatch(old === undefined ? "/dev/null" : `a/${file.path}`, `b/${file.path}`, old ?? "", file.text, "", "", { context: 3 });
      // The first line is a separator of `=` signs that git's format does not have.
      return patch.replace(/^=+\n/, "").replace(/^(---|\+\+\+) (.*)\t$/gm, "$1 $2");
    })
    .join("");
}
