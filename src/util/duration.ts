const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go/Flux-style durations ("90s", "5m", "1h30m", "250ms"); a bare number means seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== trimmed) {
    throw new Error(`invalid duration "${text}": use forms like 30s, 5m, 1h30m`);
  }
  return parts.reduce((total, [, value, unit]) => total + Number(value) * (UNITS[unit ?? "s"] ?? 1000), 0);
}
