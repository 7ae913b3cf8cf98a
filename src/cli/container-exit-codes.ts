/**
 * Exit codes of the commands whose status is otherwise the container's (`run`, `exec`), as
 * docker's: 125 when bento itself failed (bad flags, an unknown container, an image not found, a
 * container that could not be set up), 126 when the command cannot be run, 127 when it is not
 * found. Then a script tells bento's failures from its command's.
 */
import { StartupError, SystemCallError } from "../errors.js";
import type { Command } from "./command.js";
import { runReportingErrors, usageExitCode } from "./docker-command.js";

/** Docker's status when the command cannot be run (not executable, a directory). */
const cannotRunExitCode = 126;
/** Docker's status when the command is not found. */
const notFoundExitCode = 127;

/** The execve failure behind `error`, when the command itself could not be run. */
function execFailure(error: unknown): SystemCallError | undefined {
  if (error instanceof SystemCallError && (error.syscall === "execve" || error.op === "exec the command")) return error;
  if (error instanceof StartupError && error.phase === "exec") return execFailure(error.cause);
  return undefined;
}

/**
 * Wraps a command so that its failures exit as docker's run and exec do.
 *
 * @example
 * ```ts
 * const run = withContainerExitCodes(runCommand); // `bento run img no-such-cmd` exits 127
 * ```
 */
export function withContainerExitCodes(command: Command): Command {
  const failureCode = (error: unknown) => {
    const exec = execFailure(error);
    if (exec === undefined) return usageExitCode;
    return exec.code === "ENOENT" ? notFoundExitCode : cannotRunExitCode;
  };
  return { ...command, run: (args, io) => runReportingErrors(command, args, io, failureCode) };
}
