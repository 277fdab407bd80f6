import assert from "node:assert/strict";
import { test } from "node:test";
import { nextPageUrl } from "./link.ts";

const base = new URL("https://r.example/v2/app/tags/list?n=10");

test("distribution's relative next link", () => {
  assert.equal(nextPageUrl('</v2/app/tags/list?last=v9&n=10>; rel="next"', base)?.href, "https://r.example/v2/app/tags/list?last=v9&n=10");
});

test("absolute links, unquoted rel, several links and relation lists", () => {
  assert.equal(nextPageUrl("<https://r.example/v2/app/tags/list?last=b>; rel=next", base)?.href, "https://r.example/v2/app/tags/list?last=b");
  assert.equal(
    nextPageUrl('</prev>; rel="prev", </v2/x?last=c>; type="application/json"; rel="next"', base)?.href,
    "https://r.example/v2/x?last=c",
  );
  assert.equal(nextPageUrl('</n>; rel="last next"', base)?.href, "https://r.example/n");
});

test("no next page", () => {
  assert.equal(nextPageUrl(undefined, base), undefined);
  assert.equal(nextPageUrl('</prev>; rel="prev"', base), undefined);
  assert.equal(nextPageUrl("", base), undefined);
});
