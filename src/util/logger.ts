import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout is for command output). Level from
 * FJORD_LOG_LEVEL, default info.
 */
export function createLogger(component: string, destination: number = 2): Logger {
  return pino(
    { name: "fjord", level: process.env.FJORD_LOG_LEVEL ?? "info", base: { component }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: destination, sync: true }),
  );
}
