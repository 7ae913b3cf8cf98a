/**
 * `bento stop [-t SECONDS] CONTAINER...`: stops detached containers from any process.
 */
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, type Command } from "./command.js";
import { eachContainer, stopTimeout } from "./each-container.js";

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
    const timeout = stopTimeout(values.time, usage);
    return eachContainer(positionals, io, (c) => c.stop(timeout));
  },
};
