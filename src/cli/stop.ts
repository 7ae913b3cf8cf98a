/**
 * `bento stop [-t SECONDS] CONTAINER...`: stops detached containers from any process.
 */
import { Container } from "../container/container.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, reportError, type Command } from "./command.js";

const usage = `Usage: bento stop [OPTIONS] CONTAINER [CONTAINER...]

Stop detached containers (bento run -d), by name, id or id prefix: send the stop signal
(the container's, else SIGTERM), and after the timeout kill every process in it. The container
stays, exited, until bento rm.

Options:
  -t, --time SECONDS   seconds to wait before killing (default: the container's, 10)
  -h, --help           print this help
`;

const options = { ...helpOption, time: { type: "string", short: "t" } } as const;

export const stopCommand: Command = {
  name: "stop",
  summary: "Stop detached containers",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length === 0) throw new UsageError("stop needs at least one container name or id", usage);
    const seconds = values.time === undefined ? undefined : Number(values.time);
    if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 0)) throw new UsageError(`--time "${values.time}" must be a whole number of seconds, 0 or more`, usage);
    let failed = false;
    for (const ref of positionals) {
      try {
        const container = await Container.attach(ref);
        await container.stop(seconds === undefined ? {} : { timeoutMs: seconds * 1000 });
        io.stdout.write(`${ref}\n`);
      } catch (error) {
        failed = true;
        reportError(io, error);
      }
    }
    return failed ? 1 : 0;
  },
};
