import assert from "node:assert/strict";
import { test } from "node:test";
import { EXIT_CODES } from "../apply/errors.ts";
import { emptyRenderRefusal } from "./empty-render.ts";

test("an empty render is refused while the inventory holds objects, naming the path, the count and the fix", () => {
  const refusal = emptyRenderRefusal({ objects: 0, inventoryEntries: 12, allowEmpty: false, path: "clusters/prod" });
  assert.equal(refusal?.failure, "empty");
  assert.equal(EXIT_CODES[refusal?.failure ?? "ok"], 2, "like a validation failure: refused, nothing changed");
  assert.match(refusal?.message ?? "", /^path clusters\/prod rendered no objects, but the inventory holds 12 object\(s\) applied before/);
  assert.match(refusal?.message ?? "", /nothing was applied or pruned/);
  assert.match(refusal?.message ?? "", /allowEmpty: true/);
  assert.match(refusal?.message ?? "", /--allow-empty/);
});

test("an empty render is fine with allowEmpty, with an empty inventory, and any render with objects is", () => {
  assert.equal(emptyRenderRefusal({ objects: 0, inventoryEntries: 12, allowEmpty: true }), undefined);
  assert.equal(emptyRenderRefusal({ objects: 0, inventoryEntries: 0, allowEmpty: false }), undefined, "a first sync of an empty path changes nothing either way");
  assert.equal(emptyRenderRefusal({ objects: 1, inventoryEntries: 12, allowEmpty: false }), undefined);
  assert.match(emptyRenderRefusal({ objects: 0, inventoryEntries: 1, allowEmpty: false })?.message ?? "", /^the revision rendered no objects/);
});
