/**
 * The fields of the files both fjord and a tool read, transcribed from the tools' Go types:
 * kustomize's types.Kustomization (sigs.k8s.io/kustomize/api/types, kustomize v5.8) and helm's
 * chart.Metadata (helm.sh/helm/v3/pkg/chart). Struct fields are what Go's encoding/json matches
 * case-insensitively; maps (labels, annotations, openapi) are matched exactly and take any key.
 */
import { anything, listOf, mapOf, scalar, struct, type ToolConfigKind } from "./tool-config.ts";

const gvk = { group: scalar, version: scalar, kind: scalar };
const resId = { ...gvk, name: scalar, namespace: scalar };
const selector = struct({ ...resId, annotationSelector: scalar, labelSelector: scalar });
const fieldSpec = struct({ ...gvk, path: scalar, create: scalar });
const fieldOptions = struct({ delimiter: scalar, index: scalar, encoding: scalar, create: scalar });
const objectMeta = struct({ name: scalar, namespace: scalar, labels: mapOf(scalar), annotations: mapOf(scalar) });
const generatorOptions = struct({ labels: mapOf(scalar), annotations: mapOf(scalar), disableNameSuffixHash: scalar, immutable: scalar });
const generatorArgs = {
  namespace: scalar,
  name: scalar,
  behavior: scalar,
  literals: listOf(scalar),
  files: listOf(scalar),
  envs: listOf(scalar),
  env: scalar,
  options: generatorOptions,
};
const patch = struct({ path: scalar, patch: scalar, target: selector, options: mapOf(scalar) });
const image = struct({ name: scalar, newName: scalar, tagSuffix: scalar, newTag: scalar, digest: scalar });
const replacement = struct({
  source: struct({ ...resId, fieldPath: scalar, options: fieldOptions }),
  targets: listOf(struct({ select: selector, reject: listOf(selector), fieldPaths: listOf(scalar), options: fieldOptions })),
  sourceValue: scalar,
  path: scalar,
});
const helmChart = struct({
  name: scalar,
  version: scalar,
  repo: scalar,
  releaseName: scalar,
  namespace: scalar,
  additionalValuesFiles: listOf(scalar),
  valuesFile: scalar,
  valuesInline: anything,
  valuesMerge: scalar,
  includeCRDs: scalar,
  skipHooks: scalar,
  apiVersions: listOf(scalar),
  kubeVersion: scalar,
  nameTemplate: scalar,
  skipTests: scalar,
  debug: scalar,
  devel: scalar,
});
const helmChartArgs = struct({
  chartName: scalar,
  chartVersion: scalar,
  chartRepoUrl: scalar,
  chartHome: scalar,
  chartRepoName: scalar,
  helmBin: scalar,
  helmHome: scalar,
  values: scalar,
  valuesLocal: anything,
  valuesMerge: scalar,
  releaseName: scalar,
  releaseNamespace: scalar,
  extraArgs: listOf(scalar),
});
const paths = listOf(scalar);

/** Every field of a kustomization (or component); kustomize refuses any other. */
export const KUSTOMIZATION: ToolConfigKind = {
  tool: "kustomize",
  singleLineScalars: true,
  shape: struct(
    {
      kind: scalar,
      apiVersion: scalar,
      metadata: objectMeta,
      openapi: mapOf(scalar),
      namePrefix: scalar,
      nameSuffix: scalar,
      namespace: scalar,
      commonLabels: mapOf(scalar),
      labels: listOf(struct({ pairs: mapOf(scalar), includeSelectors: scalar, includeTemplates: scalar, fields: listOf(fieldSpec) })),
      commonAnnotations: mapOf(scalar),
      patchesStrategicMerge: paths,
      patchesJson6902: listOf(patch),
      patches: listOf(patch),
      images: listOf(image),
      imageTags: listOf(image),
      replacements: listOf(replacement),
      replicas: listOf(struct({ name: scalar, count: scalar })),
      vars: listOf(
        struct({
          name: scalar,
          objref: struct({ apiVersion: scalar, ...gvk, name: scalar, namespace: scalar }),
          fieldref: struct({ fieldPath: scalar }),
        }),
      ),
      sortOptions: struct({ order: scalar, legacySortOptions: struct({ orderFirst: paths, orderLast: paths }) }),
      resources: paths,
      components: paths,
      crds: paths,
      bases: paths,
      configMapGenerator: listOf(struct(generatorArgs)),
      secretGenerator: listOf(struct({ ...generatorArgs, type: scalar })),
      helmGlobals: struct({ chartHome: scalar, configHome: scalar }),
      helmCharts: listOf(helmChart),
      helmChartInflationGenerator: listOf(helmChartArgs),
      generatorOptions,
      configurations: paths,
      generators: paths,
      transformers: paths,
      validators: paths,
      buildMetadata: paths,
    },
    { closed: true },
  ),
};

/** Chart.yaml: helm ignores fields it does not know, so unknown ones are let through. */
export const CHART_METADATA: ToolConfigKind = {
  tool: "helm",
  singleLineScalars: false,
  shape: struct({
    name: scalar,
    home: scalar,
    sources: listOf(scalar),
    version: scalar,
    description: scalar,
    keywords: listOf(scalar),
    maintainers: listOf(struct({ name: scalar, email: scalar, url: scalar })),
    icon: scalar,
    apiVersion: scalar,
    condition: scalar,
    tags: scalar,
    appVersion: scalar,
    deprecated: scalar,
    annotations: mapOf(scalar),
    kubeVersion: scalar,
    dependencies: listOf(
      struct({
        name: scalar,
        version: scalar,
        repository: scalar,
        condition: scalar,
        tags: listOf(scalar),
        enabled: scalar,
        "import-values": anything,
        alias: scalar,
      }),
    ),
    type: scalar,
  }),
};
