import assert from "node:assert/strict";
import { test } from "node:test";
import { ImageCreatedCache, ImageTagStore } from "./image-tag-store.ts";

test("the tag store says when a scan found a different tag set, and stays bounded", () => {
  const store = new ImageTagStore(2, 3);
  assert.equal(store.set("ns/a", ["1.0.0"]), true, "first scan");
  assert.equal(store.set("ns/a", ["1.0.0"]), false);
  assert.equal(store.set("ns/a", ["1.0.0", "1.1.0"]), true, "new tag");
  assert.equal(store.set("ns/a", ["1.1.0", "1.2.0"]), true, "same count, other tags");
  assert.deepEqual(store.set("ns/b", ["a", "b", "c", "d"]), true);
  assert.deepEqual(store.get("ns/b"), ["b", "c", "d"], "the highest sorting tags are kept");
  store.set("ns/c", []);
  assert.equal(store.get("ns/a"), undefined, "the least recently scanned repository is forgotten");
  store.delete("ns/b");
  assert.equal(store.get("ns/b"), undefined);
});

test("the creation time cache remembers unknown times too, and forgets the oldest", () => {
  const cache = new ImageCreatedCache(2);
  cache.set("img", "a", new Date(1000));
  cache.set("img", "b", undefined);
  assert.equal(cache.get("img", "b"), null);
  cache.set("img", "c", new Date(3000));
  assert.equal(cache.get("img", "a"), undefined);
  assert.equal(cache.get("img", "c")?.getTime(), 3000);
});
