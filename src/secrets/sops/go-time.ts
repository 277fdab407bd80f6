/**
 * The few pieces of Go's `time` package that SOPS files depend on: YAML timestamps become
 * time.Time in sops and are hashed and encrypted in their MarshalText form, and the MAC's
 * additional data is `lastmodified` re-formatted with time.RFC3339.
 */

interface GoTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Up to nine digits, as written (Go keeps nanoseconds). */
  fraction: string;
  /** Minutes east of UTC. */
  offset: number;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function parseOffset(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (!match) return undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === "-" ? -minutes : minutes;
}

function build(fields: Array<string | undefined>, fraction: string | undefined, zone: string | undefined): GoTime | undefined {
  const [year, month, day, hour = 0, minute = 0, second = 0] = fields.map((field) => Number(field ?? 0));
  const offset = parseOffset(zone);
  if (year === undefined || month === undefined || day === undefined || offset === undefined) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // Go keeps nanoseconds and drops any further digits.
  return { year, month, day, hour, minute, second, fraction: (fraction ?? "").slice(0, 9), offset };
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function format(time: GoTime, withFraction: boolean): string {
  let text = `${pad(time.year, 4)}-${pad(time.month, 2)}-${pad(time.day, 2)}T${pad(time.hour, 2)}:${pad(time.minute, 2)}:${pad(time.second, 2)}`;
  const fraction = time.fraction.replace(/0+$/, "");
  if (withFraction && fraction) text += `.${fraction}`;
  if (time.offset === 0) return `${text}Z`;
  const sign = time.offset < 0 ? "-" : "+";
  const minutes = Math.abs(time.offset);
  return `${text}${sign}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

function parseRfc3339(text: string): GoTime | undefined {
  const match = RFC3339.exec(text);
  return match ? build(match.slice(1, 7), match[7], match[8]) : undefined;
}

/** time.Parse(time.RFC3339, text).Format(time.RFC3339): the MAC's additional data. */
export function normalizeRfc3339(text: string): string | undefined {
  const time = parseRfc3339(text);
  return time && format(time, false);
}

/** time.Time.UnmarshalText then MarshalText: how a decrypted `type:time` value is hashed. */
export function normalizeTimeText(text: string): string | undefined {
  const time = parseRfc3339(text);
  return time && format(time, true);
}

/** The current time as sops writes `lastmodified`: UTC, whole seconds. */
export function nowRfc3339(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}

// go-yaml v3's timestamp layouts, tried in order: date fields may have one or two digits.
const YAML_TIMESTAMPS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2})t(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?()$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2})()()()()()$/,
];

/**
 * A plain YAML scalar that go-yaml v3 decodes as a timestamp, in time.Time's MarshalText
 * form; undefined when it is not one.
 */
export function parseYamlTimestamp(text: string): string | undefined {
  for (const layout of YAML_TIMESTAMPS) {
    const match = layout.exec(text);
    if (!match) continue;
    const time = build(match.slice(1, 7).map((field) => field || undefined), match[7], match[8] || undefined);
    if (time) return format(time, true);
  }
  return undefined;
}
