import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_RELEASE_NAME_LENGTH, releaseNameProblem } from "./release-name.ts";

test("release names follow helm's rule: a lowercase DNS-1123 subdomain of at most 53 characters", () => {
  for (const name of ["shop", "web-1", "a", "team.shop", "0day", "a".repeat(MAX_RELEASE_NAME_LENGTH)]) {
    assert.equal(releaseNameProblem(name), undefined, name);
  }
  for (const name of ["", "--post-renderer=chart/pwn.sh", "--", "-shop", "shop-", "Shop", "shop_web", "shop web", "shop/web", "a..b", ".a", "ſhop"]) {
    assert.ok(releaseNameProblem(name), name);
  }
  assert.match(releaseNameProblem("a".repeat(54)) ?? "", /is 54 characters long; helm allows at most 53/);
});
