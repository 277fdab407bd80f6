/**
 * Every path or URL a kustomization can make kustomize load, by field. `base` references may
 * name a directory with a kustomization of its own (which must be scanned in turn); `file`
 * references name a single file.
 */
export interface KustomizationReference {
  field: string;
  value: string;
  kind: "base" | "file";
}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function records(value: unknown): Fields[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** Generators, transformers and strategic-merge patches may be written inline instead of as paths. */
function isInline(value: string): boolean {
  return value.includes("\n");
}

/** A generator's `files` entry is `path` or `key=path`. */
function generatorFilePath(entry: string): string {
  const equals = entry.indexOf("=");
  return equals < 0 ? entry : entry.slice(equals + 1);
}

const BASE_LIST_FIELDS = ["resources", "bases", "components", "generators", "transformers", "validators"];
const FILE_LIST_FIELDS = ["crds", "configurations", "patchesStrategicMerge"];
const PATH_OBJECT_FIELDS = ["patches", "patchesJson6902", "replacements"];
const GENERATOR_FIELDS = ["configMapGenerator", "secretGenerator"];

export function kustomizationReferences(kustomization: unknown): KustomizationReference[] {
  if (!isRecord(kustomization)) return [];
  const found: KustomizationReference[] = [];
  const add = (field: string, value: string, kind: KustomizationReference["kind"]) => {
    if (value.trim() !== "" && !isInline(value)) found.push({ field, value, kind });
  };
  for (const field of BASE_LIST_FIELDS) for (const value of strings(kustomization[field])) add(field, value, "base");
  for (const field of FILE_LIST_FIELDS) for (const value of strings(kustomization[field])) add(field, value, "file");
  for (const field of PATH_OBJECT_FIELDS) {
    for (const entry of records(kustomization[field])) if (typeof entry.path === "string") add(`${field}.path`, entry.path, "file");
  }
  for (const field of GENERATOR_FIELDS) {
    for (const generator of records(kustomization[field])) {
      for (const file of strings(generator.files)) add(`${field}.files`, generatorFilePath(file), "file");
      for (const env of strings(generator.envs)) add(`${field}.envs`, env, "file");
      if (typeof generator.env === "string") add(`${field}.env`, generator.env, "file");
    }
  }
  const openapi = kustomization.openapi;
  if (isRecord(openapi) && typeof openapi.path === "string") add("openapi.path", openapi.path, "file");
  // Helm inflation runs only with --enable-helm, which fjord never passes; its paths are still checked.
  for (const chart of records(kustomization.helmCharts)) {
    if (typeof chart.repo === "string") add("helmCharts.repo", chart.repo, "file");
    if (typeof chart.valuesFile === "string") add("helmCharts.valuesFile", chart.valuesFile, "file");
    for (const file of strings(chart.additionalValuesFiles)) add("helmCharts.additionalValuesFiles", file, "file");
  }
  for (const chart of records(kustomization.helmChartInflationGenerator)) {
    for (const field of ["chartRepoUrl", "chartHome", "values", "helmHome"]) {
      const value = chart[field];
      if (typeof value === "string") add(`helmChartInflationGenerator.${field}`, value, "file");
    }
  }
  const helmGlobals = kustomization.helmGlobals;
  if (isRecord(helmGlobals)) {
    for (const field of ["chartHome", "configHome"]) {
      const value = helmGlobals[field];
      if (typeof value === "string") add(`helmGlobals.${field}`, value, "file");
    }
  }
  return found;
}
