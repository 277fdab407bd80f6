/**
 * Helm's own rule for release names (chartutil.ValidateReleaseName): a lowercase DNS-1123
 * subdomain of at most 53 characters, since helm derives Secret and label values from it.
 * Checked before helm runs, so that nothing else (a flag, say) can reach its command line
 * where the release name goes.
 */
export const MAX_RELEASE_NAME_LENGTH = 53;

const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** Why `name` is not a release name helm accepts, or undefined when it is one. */
export function releaseNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name.length > MAX_RELEASE_NAME_LENGTH) return `is ${name.length} characters long; helm allows at most ${MAX_RELEASE_NAME_LENGTH}`;
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return "is not a valid release name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit";
  }
  return undefined;
}
