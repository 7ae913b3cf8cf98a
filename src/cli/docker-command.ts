/**
 * Helpers for the commands that follow docker's CLI: exit codes as docker's (125 for bad usage,
 * as docker's flag errors; 1 when the operation failed) and `--format` output.
 */
import { UsageError } from "./args.js";
import { reportError, type CliIo, type Command } from "./command.js";
import { parseTemplate, TemplateError } from "./go-template.js";

/** Docker's exit status for its own errors (bad flags, bad arguments). */
export const usageExitCode = 125;

/**
 * Runs a command: a usage error prints the message and the usage and gives 125, as docker's flag
 * errors; any other failure is reported and gives `failureCode(error)`.
 *
 * @example
 * ```ts
 * const code = await runReportingErrors(tagCommand, ["app:1"], io, () => 1);
 * ```
 */
export async function runReportingErrors(command: Command, args: string[], io: CliIo, failureCode: (error: unknown) => number): Promise<number> {
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`bento: ${error.message}\n\n${error.usage}`);
      return usageExitCode;
    }
    reportError(io, error);
    return failureCode(error);
  }
}

/**
 * Wraps a command so that its usage errors exit with 125 and its failures with 1, as docker's.
 *
 * @example
 * ```ts
 * export const tagCommand = dockerCommand({ name: "tag", summary: "...", usage, run: async (args, io) => 0 });
 * ```
 */
export function dockerCommand(command: Command): Command {
  return { ...command, run: (args, io) => runReportingErrors(command, args, io, () => 1) };
}

/** `--format` as docker reads it: "json" for one JSON line per object, else a Go template. */
export function formatter(format: string | undefined, usage: string): ((value: unknown) => string) | undefined {
  if (format === undefined || format === "") return undefined;
  if (format === "json") return (value) => JSON.stringify(value);
  try {
    return parseTemplate(format);
  } catch (error) {
    if (error instanceof TemplateError) throw new UsageError(`--format: ${error.message}`, usage);
    throw error;
  }
}

/** Writes each value through the format (one per line), or all as docker's indented JSON array. */
export function writeFormatted(io: CliIo, values: readonly unknown[], format: ((value: unknown) => string) | undefined): void {
  if (format === undefined) {
    io.stdout.write(`${JSON.stringify(values, null, 4)}\n`);
    return;
  }
  for (const value of values) {
    try {
      io.stdout.write(`${format(value)}\n`);
    } catch (error) {
      if (error instanceof TemplateError) throw new Error(`--format: ${error.message}`, { cause: error });
      throw error;
    }
  }
}
