/**
 * `bento wait CONTAINER...`: waits for detached containers to end and prints their exit codes.
 */
import { Container } from "../container/container.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, reportError, type Command } from "./command.js";

const usage = `Usage: bento wait CONTAINER [CONTAINER...]

Block until detached containers (by name, id or id prefix) stop, then print their exit codes,
one a line (at once for one that already exited).

Options:
  -h, --help   print this help
`;

export const waitCommand: Command = {
  name: "wait",
  summary: "Wait for detached containers to stop and print their exit codes",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length === 0) throw new UsageError("wait needs at least one container name or id", usage);
    let failed = false;
    for (const ref of positionals) {
      try {
        const exit = await (await Container.attach(ref)).wait();
        io.stdout.write(`${exit.exitCode}\n`);
      } catch (error) {
        failed = true;
        reportError(io, error);
      }
    }
    return failed ? 1 : 0;
  },
};
