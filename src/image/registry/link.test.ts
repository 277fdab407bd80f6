import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidLinkError, nextPageUrl } from "./link.ts";

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

test("fuzz-found: a next link that is not a URL is an InvalidLinkError, not a TypeError", () => {
  // Counterexample of responses.fuzz.test.ts.
  assert.throws(() => nextPageUrl('<https://>; rel=next, <a>; rel="prev next"', base), (error: unknown) => error instanceof InvalidLinkError && /next-page link is not a URL/.test(error.message));
  assert.throws(() => nextPageUrl('<http://[::1>; rel="next"', base), InvalidLinkError);
  // A link that is not the next page is not read at all.
  assert.equal(nextPageUrl('<https://>; rel="prev"', base), undefined);
});
