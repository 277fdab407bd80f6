/** Plain-text tables and ages as kubectl prints them, shared by the read-only commands. */

/** Column widths that fit the headers and every row. */
export function columnWidths(headers: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
}

/** One line, columns separated by three spaces; the last column is never padded. */
export function formatRow(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
    .join("   ")
    .trimEnd();
}

/** Left-aligned columns, as kubectl prints them. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(headers, rows);
  return [headers, ...rows].map((row) => formatRow(row, widths)).join("\n");
}

/** kubectl's short ages: `45s`, `12m`, `3h20m`, `5d`; `<unknown>` without a time. */
export function formatAge(timestamp: string | undefined, now: number = Date.now()): string {
  const at = timestamp ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(at)) return "<unknown>";
  const seconds = Math.max(0, Math.floor((now - at) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 6) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 365 ? `${days}d` : `${Math.floor(days / 365)}y${days % 365}d`;
}

/** One line of a table cell: multi-line messages would break the columns. */
export function oneLine(text: string | undefined, max = 120): string {
  const flat = (text ?? "").replace(/\s*\n\s*/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
