/** A `Link` header whose next-page target is not a URL (the message does not quote it). */
export class InvalidLinkError extends Error {
  override readonly name = "InvalidLinkError";
}

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), resolved against the request URL, e.g.
 * `</v2/app/tags/list?last=v9&n=10>; rel="next"`. Undefined when there is no next page; an
 * InvalidLinkError when there is one that is not a URL (stopping there would silently drop
 * the newest tags).
 */
export function nextPageUrl(header: string | undefined, base: URL): URL | undefined {
  if (header === undefined) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? "";
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (relations.includes("next")) {
      // A registry's header: a target the URL parser refuses is the registry's error, not a TypeError.
      if (!URL.canParse(match[1] ?? "", base.href)) throw new InvalidLinkError(`the registry's next-page link is not a URL`);
      return new URL(match[1] ?? "", base);
    }
  }
  return undefined;
}
