/**
 * The bento CLI's dispatcher: finds the command, runs it, and turns what it throws into an exit
 * code, as docker's: 0 ok, 1 a failure, 125 bento's own error (an unknown command, bad flags or
 * arguments; usage printed to stderr); run and exec exit with their command's status, 126 or 127
 * when it cannot be run or is not found, and 125 for any failure of bento's (see
 * container-exit-codes.ts). Errors print as `bento: <message>`; with BENTO_DEBUG set, with their
 * stack and causes.
 */
import { buildCommand } from "./build.js";
import type { CliIo, Command } from "./command.js";
import { composeCommand } from "./compose.js";
import { doctorCommand } from "./doctor.js";
import { imagesCommand } from "./images.js";
import { logsCommand } from "./logs.js";
import { pruneCommand } from "./prune.js";
import { psCommand } from "./ps.js";
import { rmCommand } from "./rm.js";
import { runCommand } from "./run.js";
import { execCommand } from "./exec.js";
import { attachCommand } from "./attach.js";
import { withContainerExitCodes } from "./container-exit-codes.js";
import { runReportingErrors, usageExitCode } from "./docker-command.js";
import { stopCommand } from "./stop.js";
import { waitCommand } from "./wait.js";
import { volumeCommand } from "./volume.js";
import { networkCommand } from "./network.js";
import { dockerImageCommands } from "./docker-commands.js";
import { dockerContainerCommands } from "./docker-container-commands.js";

/** Every command, in the order `bento --help` lists them. */
export const commands: readonly Command[] = [
  psCommand,
  imagesCommand,
  logsCommand,
  rmCommand,
  pruneCommand,
  volumeCommand,
  networkCommand,
  withContainerExitCodes(runCommand),
  withContainerExitCodes(execCommand),
  attachCommand,
  stopCommand,
  waitCommand,
  ...dockerContainerCommands,
  buildCommand,
  composeCommand,
  doctorCommand,
  ...dockerImageCommands,
];

/** `bento --help`. */
export function mainUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: bento COMMAND [OPTIONS]

Build images and run containers with no daemon; inspect and clean up what tests left behind.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`).join("\n")}

Run "bento COMMAND --help" for a command's options.
Environment: BENTO_HOME (the store), BENTO_RUNTIME_DIR (locks and state), BENTO_DEBUG (stacks on errors).
`;
}

/**
 * Runs `bento <argv>` and resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(["ps", "-a"], { stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(mainUsage());
    return usageExitCode;
  }
  if (name === "-h" || name === "--help" || name === "help") {
    io.stdout.write(mainUsage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`bento: unknown command "${name}"\n\n${mainUsage()}`);
    return usageExitCode;
  }
  return runReportingErrors(command, args, io, () => 1);
}
