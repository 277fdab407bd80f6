/**
 * The `rel="next"` target of a `Link` header (RFC 8288), resolved against the request URL, e.g.
 * `</v2/app/tags/list?last=v9&n=10>; rel="next"`. Undefined when there is no next page.
 */
export function nextPageUrl(header: string | undefined, base: URL): URL | undefined {
  if (header === undefined) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? "";
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (relations.includes("next")) return new URL(match[1] ?? "", base);
  }
  return undefined;
}
