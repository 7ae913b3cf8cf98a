/**
 * The shape of a bento CLI command: a name, its usage text, and a function from arguments to an
 * exit code. Commands write through a {@link CliIo}, so they never touch `process.stdout` directly.
 */
import { config } from "../config.js";

/** Where a command writes. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/** One `bento <name>` command. */
export interface Command {
  name: string;
  /** One line for `bento --help`. */
  summary: string;
  /** The full usage text of `bento <name> --help`. */
  usage: string;
  /** Runs the command; resolves to its exit code. Throws UsageError for bad input. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Writes `value` as indented JSON with a newline. */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a command's usage to stdout (it was asked for); returns exit code 0. */
export function printHelp(io: CliIo, usage: string): number {
  io.stdout.write(usage);
  return 0;
}

/** True when BENTO_DEBUG names any subsystem. */
function debugEnabled(): boolean {
  try {
    return config().debug.size > 0;
  } catch {
    return false;
  }
}

/** The text printed for a failure: its message, or with BENTO_DEBUG its stack and every cause. */
export function describeError(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return `bento: ${String(error)}\n`;
  if (!debug) return `bento: ${error.message}\n`;
  let text = `bento: ${error.stack ?? error.message}\n`;
  for (let cause = error.cause, depth = 0; cause !== undefined && depth < 10; cause = (cause as Error).cause, depth++) {
    text += `caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`;
  }
  return text;
}

/** Prints a failure to stderr as `bento: <message>` (with BENTO_DEBUG: its stack and causes). */
export function reportError(io: CliIo, error: unknown): void {
  io.stderr.write(describeError(error, debugEnabled()));
}
