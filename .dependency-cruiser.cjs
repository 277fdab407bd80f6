/**
 * fjord's layering, checked by `npm run depcheck` (part of `npm test`). Lower layers never import
 * higher ones, so a change near the bottom (a parser, the kube client) cannot depend on the
 * controller, and the controller cannot depend on how it is served (HTTP) or started (CLI).
 *
 *   cli                                   (commands; wires everything together)
 *   install                               (the objects `fjord install` applies)
 *   controller          server            (reconcile loop | HTTP routes; neither imports the other)
 *   api                                   (fjord.dev types, CRD schemas, conditions)
 *   sync                                  (one sync: apply -> inventory -> prune -> wait)
 *   apply                                 (the apply engine)
 *   render  image  inventory  health  diff  secrets  git  kube  admission
 *   util  model  input  pki               (no imports into the rest of src)
 */
const layer = (name) => `^src/${name}/`;
const LOW = "(util|model|input|pki)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "modules that import each other cannot be read or changed on their own", from: {}, to: { circular: true } },
    {
      name: "runtime-not-on-tests",
      severity: "error",
      comment: "runtime code never depends on test helpers or the test environment (they spawn clusters and Git servers)",
      from: { path: "^src/", pathNot: "\\.test\\.ts$" },
      to: { path: ["^test/", "^testenv/", "^scripts/"] },
    },
    {
      name: "foundation-stays-below",
      severity: "error",
      from: { path: `^src/${LOW}/`, pathNot: "\\.test\\.ts$" },
      to: { path: "^src/", pathNot: `^src/${LOW}/` },
    },
    {
      name: "building-blocks-stay-below",
      severity: "error",
      comment: "kube, git, health, diff, inventory, render, image, secrets, admission are libraries: they know nothing of apply, sync, the API, the controller, the server, install or the CLI",
      from: { path: "^src/(kube|git|health|diff|inventory|render|image|secrets|admission)/", pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(apply|sync|api|controller|server|install|cli)/" },
    },
    {
      name: "apply-below-sync",
      severity: "error",
      from: { path: layer("apply"), pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(sync|api|controller|server|install|cli)/" },
    },
    {
      name: "sync-below-api",
      severity: "error",
      from: { path: layer("sync"), pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(api|controller|server|install|cli)/" },
    },
    {
      name: "api-is-definitions",
      severity: "error",
      comment: "the API layer holds types, schemas and conditions; code that talks to a cluster lives above it",
      from: { path: layer("api"), pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(apply|sync|kube|controller|server|install|cli)/", pathNot: "^src/kube/resource-path\\.ts$" },
    },
    {
      name: "controller-not-server",
      severity: "error",
      comment: "the reconcile loop does not know how it is served; the CLI wires the HTTP server to it",
      from: { path: layer("controller"), pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(server|install|cli)/" },
    },
    {
      name: "server-not-controller",
      severity: "error",
      from: { path: layer("server"), pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(controller|apply|sync|install|cli)/" },
    },
    {
      name: "install-below-cli",
      severity: "error",
      from: { path: layer("install"), pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(cli|server|controller)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
