import { styleText } from "node:util";
import type { ChangeSetEntry } from "../apply/engine.ts";
import { describeRef } from "../model/object.ts";
import type { RenderWarning } from "../render/render.ts";

export type OutputFormat = "text" | "json";

/** Colour only for people: a terminal, and no NO_COLOR. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

export function paint(color: Parameters<typeof styleText>[0], text: string, enabled = useColor()): string {
  return enabled ? styleText(color, text) : text;
}

const ACTION_COLORS: Record<ChangeSetEntry["action"], Parameters<typeof styleText>[0]> = {
  created: "green",
  configured: "yellow",
  unchanged: "gray",
  deleted: "red",
  skipped: "magenta",
};

/** One line per object that changed (unchanged ones only with `verbose`), then a summary line. */
export function formatChangeSet(changes: readonly ChangeSetEntry[], options: { verbose?: boolean; color?: boolean } = {}): string {
  const color = options.color ?? useColor();
  const lines: string[] = [];
  for (const change of changes) {
    if (change.action === "unchanged" && !options.verbose) continue;
    const note = change.note ? paint("gray", ` (${change.note})`, color) : "";
    lines.push(`${describeRef(change.ref)} ${paint(ACTION_COLORS[change.action], change.action, color)}${note}`);
  }
  lines.push(summarize(changes));
  return lines.join("\n");
}

export function summarize(changes: readonly ChangeSetEntry[]): string {
  const counts = new Map<string, number>();
  for (const change of changes) counts.set(change.action, (counts.get(change.action) ?? 0) + 1);
  const order: ChangeSetEntry["action"][] = ["created", "configured", "deleted", "skipped", "unchanged"];
  const parts = order.filter((action) => counts.has(action)).map((action) => `${counts.get(action)} ${action}`);
  return parts.length ? parts.join(", ") : "nothing to apply";
}

/** One line for stderr: `warning: <message>`. */
export function formatWarning(warning: RenderWarning, color = useColor(process.stderr)): string {
  return `${paint("yellow", "warning:", color)} ${warning.message}`;
}

/**
 * A one-line progress indicator on stderr for terminals; elsewhere (CI logs) each step is
 * printed once as a plain line, so logs stay readable.
 */
export interface Progress {
  update: (message: string) => void;
  /** A line that stays (a warning), printed whether or not progress is shown. */
  note: (line: string) => void;
  stop: () => void;
}

export function createProgress(enabled: boolean): Progress {
  const stream = process.stderr;
  const note = (line: string) => stream.write(`${line}\n`);
  if (!enabled) return { update: () => {}, note, stop: () => {} };
  if (!stream.isTTY) {
    let last = "";
    return {
      note,
      update: (message) => {
        // Repeated wait messages would flood a log; print only when the step changes.
        const step = message.split(":")[0] ?? message;
        if (step !== last) stream.write(`${message}\n`);
        last = step;
      },
      stop: () => {},
    };
  }
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let frame = 0;
  let current = "";
  const started = Date.now();
  const draw = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const width = (stream.columns || 80) - 12;
    stream.write(`\r\x1b[K${frames[frame++ % frames.length]} ${current.slice(0, width)} ${paint("gray", `${seconds}s`, true)}`);
  };
  const timer = setInterval(draw, 100);
  return {
    update: (message) => {
      current = message;
      draw();
    },
    note: (line) => {
      stream.write(`\r\x1b[K${line}\n`);
      draw();
    },
    stop: () => {
      clearInterval(timer);
      stream.write("\r\x1b[K");
    },
  };
}
