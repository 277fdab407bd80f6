import assert from "node:assert/strict";
import { test } from "node:test";
import { checkMessageTemplate, renderCommitMessage } from "./image-commit-message.ts";

const changes = [
  { file: "apps/web.yaml", line: 12, old: "reg/app:1.0.0", new: "reg/app:1.1.0", policy: "prod:app", field: "image" as const },
  { file: "apps/kustomization.yaml", line: 5, old: "1.0.0", new: "1.1.0", policy: "prod:app", field: "tag" as const },
];

test("the default message lists every change as file:line: old -> new", () => {
  const message = renderCommitMessage(undefined, { automation: "prod/images", changes });
  assert.equal(message, "Update images\n\n- apps/web.yaml:12: reg/app:1.0.0 -> reg/app:1.1.0\n- apps/kustomization.yaml:5: 1.0.0 -> 1.1.0\n\nAutomation: prod/images");
});

test("placeholders of a custom template are filled, spaces inside braces allowed", () => {
  const message = renderCommitMessage("chore: {{ count }} image(s) by {{policies}} in {{files}}", { automation: "a/b", changes });
  assert.equal(message, "chore: 2 image(s) by prod:app in apps/web.yaml, apps/kustomization.yaml");
});

test("an unknown placeholder is refused with the known ones named", () => {
  assert.match(checkMessageTemplate("{{range .Changes}}x{{end}}") ?? "", /unknown placeholders \{\{range \.Changes\}\}, \{\{end\}\}; known: \{\{changes\}\}/);
  assert.equal(checkMessageTemplate("Update {{changes}}"), undefined);
  assert.match(checkMessageTemplate("  ") ?? "", /empty/);
});
