/**
 * `helm template` prints every manifest under a `# Source: <chart>/templates/x.yaml` comment.
 * These helpers cut the output at document boundaries and tell which template each part came
 * from, so errors and sources can name the file in the repository.
 */
import { joinRelative } from "./paths.ts";

export interface HelmManifest {
  /** The Source path as helm prints it (`shop/templates/deployment.yaml`), when there is one. */
  template?: string;
  text: string;
}

const DOCUMENT_START = /^---(?:[ \t]|$)/;
const SOURCE_COMMENT = /^#\s*Source:\s*(.+?)\s*$/;

/**
 * Splits helm's output into documents, each with the template named in its Source comment.
 * A document without one (a CRD file holding several documents, say) belongs to the previous
 * document's template. Each part keeps its `---` line, so YAML still reads it the same way.
 */
export function splitHelmOutput(output: string): HelmManifest[] {
  const manifests: HelmManifest[] = [];
  let lines: string[] = [];
  let template: string | undefined;
  let sawContent = false;
  const flush = () => {
    if (lines.some((line) => line.trim() !== "" && line !== "---")) {
      manifests.push(template === undefined ? { text: lines.join("\n") } : { template, text: lines.join("\n") });
    }
    lines = [];
    sawContent = false;
  };
  for (const line of output.split("\n")) {
    if (DOCUMENT_START.test(line)) flush();
    const source = sawContent ? null : SOURCE_COMMENT.exec(line);
    if (source) template = source[1];
    else if (line.trim() !== "" && !line.startsWith("#") && !DOCUMENT_START.test(line)) sawContent = true;
    lines.push(line);
  }
  flush();
  return manifests;
}

/**
 * The repository file of a Source path: helm prefixes paths with the chart's name (from
 * Chart.yaml, not the directory), which is replaced by the chart's directory. Subcharts keep
 * their `charts/<name>/` part, so `shop/charts/redis/templates/x.yaml` becomes
 * `<chartDir>/charts/redis/templates/x.yaml`.
 */
export function templateFile(chartDir: string, template: string): string {
  const slash = template.indexOf("/");
  return joinRelative(chartDir, slash < 0 ? template : template.slice(slash + 1));
}

/**
 * The template and line helm blames in an error message, e.g. `parse error at
 * (shop/templates/x.yaml:5)` or `template: shop/templates/x.yaml:3:12: executing ...`.
 */
export function helmErrorLocation(stderr: string, chartName: string, chartDir: string): { file: string; line?: number } | undefined {
  // A plain scan rather than a regular expression built from the chart name, which comes from the repository.
  const prefix = `${chartName}/`;
  for (let at = stderr.indexOf(prefix); at >= 0; at = stderr.indexOf(prefix, at + 1)) {
    if (at > 0 && !/[\s(]/.test(stderr[at - 1]!)) continue;
    let end = at + prefix.length;
    while (end < stderr.length && !/[\s:()"']/.test(stderr[end]!)) end++;
    if (end === at + prefix.length) continue;
    const file = templateFile(chartDir, stderr.slice(at, end));
    const line = /^:(\d+)/.exec(stderr.slice(end, end + 12));
    return line ? { file, line: Number(line[1]) } : { file };
  }
  return undefined;
}
