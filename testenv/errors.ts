/**
 * One error type for everything that can go wrong while building or running the local
 * control plane. It always names the component, and where one exists its log file and
 * what the user can do, because "the control plane did not start" on its own is useless.
 */
export class TestenvError extends Error {
  override readonly name = "TestenvError";

  constructor(
    readonly component: string,
    readonly problem: string,
    readonly hint: string,
    readonly logFile?: string,
  ) {
    super(formatMessage(component, problem, hint, logFile));
  }
}

function formatMessage(component: string, problem: string, hint: string, logFile?: string): string {
  const lines = [`${component}: ${problem}`];
  if (logFile) lines.push(`  log: ${logFile}`);
  lines.push(`  fix: ${hint}`);
  return lines.join("\n");
}
