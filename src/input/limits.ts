/**
 * Every limit fjord puts on data from outside (Git, tools' output, registries, webhook calls).
 * Each one is documented in README.md and SECURITY.md; change them together.
 *
 * The sizes follow from two facts. Kubernetes stores at most about 1.5 MiB per object (etcd's
 * request limit; the API server refuses bodies over 3 MiB), so no single document larger than a
 * few MiB can ever be applied. And the controller parses YAML in its own memory: the parsed form
 * of YAML costs several times the text (see README "Limits" for the measured figures), and up to
 * `--concurrency` reconciles parse at once.
 */

const MiB = 1024 * 1024;

/**
 * One manifest file read from Git (a plain manifest, a kustomization, Chart.yaml, a SOPS file, a
 * file image automation edits). The largest real files are CRD bundles (prometheus-operator's
 * bundle.yaml is about 4 MiB), so 8 MiB leaves room and still parses in bounded memory.
 */
export const MAX_FILE_BYTES = 8 * MiB;

/**
 * Everything one render produces: the plain files of a directory summed, or helm's or
 * kustomize's standard output. Argo CD caps a directory Application at 10 MB for the same
 * reason; 16 MiB also covers big umbrella charts. This is the figure the memory arithmetic of
 * the controller's Deployment is built on (src/install/workload.ts).
 */
export const MAX_RENDER_BYTES = 16 * MiB;

/**
 * One YAML document (between `---` lines). The parser holds one document's syntax tree at a
 * time, which costs tens of bytes per byte of text; an object larger than this could never be
 * stored by the API server anyway (its YAML is at most about twice its JSON).
 */
export const MAX_DOCUMENT_BYTES = 4 * MiB;

/**
 * Tokens (keys, values, indicators such as `:` and `-`, punctuation) of one YAML document,
 * counted by the lexer before the document is built: the `yaml` package's syntax tree costs
 * hundreds of bytes per token, whatever the text, so this (not the byte size) bounds the memory
 * one document takes while it is parsed. A 1.5 MiB object (the most etcd stores) written as
 * ordinary YAML has about 200,000.
 */
export const MAX_DOCUMENT_TOKENS = 250_000;

/**
 * Nodes of everything one render produces, with aliases expanded. Parsed values cost tens of
 * bytes per node in the controller's memory for as long as the sync runs; a typical object has
 * a few hundred, so this allows thousands of ordinary objects.
 */
export const MAX_RENDER_NODES = 1_000_000;

/**
 * Kubernetes objects one Application (or one `fjord sync`) may hold. Its inventory lives in the
 * Application's status (about 100 bytes per object, and the whole object must stay under etcd's
 * 1.5 MiB), and every object costs requests and memory on each sync.
 */
export const MAX_OBJECTS = 5000;

/**
 * How deeply collections may nest in one YAML or JSON document. Real manifests stay below 50
 * (deep CRD schemas included); parsers and everything that walks the result recurse per level,
 * and the `yaml` package reaches the end of the stack (and can crash the process) beyond a few
 * thousand.
 */
export const MAX_NESTING_DEPTH = 200;

/**
 * Alias nodes (`*name`) in one YAML document. Manifests use a few to share blocks; thousands
 * only serve to make the document expensive. Their expansion is limited separately, by size.
 */
export const MAX_ALIASES = 1000;

/**
 * A JSON body fjord parses from a registry or a local file of settings (webhook receivers,
 * Docker config), when the caller has no tighter limit of its own.
 */
export const MAX_JSON_BYTES = 8 * MiB;

/** A kubeconfig file: local and trusted, capped so a wrong path (a log file, /dev/zero) fails fast. */
export const MAX_KUBECONFIG_BYTES = 16 * MiB;

/**
 * Standard error of a tool kept for the error message; the end is kept, where tools print the
 * error. A condition's message holds at most 32 KiB.
 */
export const MAX_TOOL_STDERR_BYTES = 16 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${Number((bytes / MiB).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

/**
 * A GitRepository's `spec.ignore` (gitignore lines), in characters; the CRD holds the same limit,
 * so the API server refuses a longer one. Real ignore rules are a few lines.
 */
export const MAX_SOURCE_IGNORE_CHARACTERS = 16 * 1024;

/**
 * Patterns (lines other than blank lines and comments) in one `spec.ignore`. Every path of a
 * checked-out commit is matched against each of them, so this bounds the work per file.
 */
export const MAX_SOURCE_IGNORE_PATTERNS = 256;
