// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }] },
      ],
      // Runtime code must never depend on test helpers (they spawn clusters and git servers),
      // nor on @kubernetes/client-node: loading it costs about 70 MiB and 1 s (its generated
      // models load with its KubeConfig), so it is a test-only compatibility peer.
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "@kubernetes/client-node", message: "a dev dependency (tests only); use src/kube/client.ts and src/kube/cluster-access.ts" }],
          patterns: [{ group: ["**/test/**"], message: "runtime code must not import test helpers" }],
        },
      ],
      // A pattern built from data may hold user text, and V8's backtracking engine can take
      // exponential time on it: user patterns go through src/util/user-pattern.ts (RE2).
      "no-restricted-syntax": [
        "error",
        ...["NewExpression", "CallExpression"].map((node) => ({
          selector: `${node}[callee.name='RegExp'][arguments.0.type!='Literal']`,
          message: "compile patterns built from data with compileUserPattern (src/util/user-pattern.ts), which runs on RE2",
        })),
      ],
    },
  },
  {
    files: ["test/**", "scripts/**", "**/*.test.ts"],
    // Diff and YAML assertions match indentation literally; "{2}" would hide what is meant.
    rules: { "no-restricted-imports": "off", "no-regex-spaces": "off", "no-restricted-syntax": "off" },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
);
