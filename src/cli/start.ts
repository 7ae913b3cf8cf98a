/**
 * `bento start CONTAINER...` and `bento restart [-t SECONDS] CONTAINER...`: start exited detached
 * containers again, or stop and start running ones, from any process.
 */
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { eachContainer, stopTimeout } from "./each-container.js";

const startUsage = `Usage: bento start CONTAINER [CONTAINER...]

Start detached containers (bento run -d) that exited, by name, id or id prefix: the same
command, filesystem and host ports; it returns once the command runs. A container that joined
a network or shared another container's namespaces cannot be started from another process.
Unlike docker start, no -a or -i (see bento logs -f).

Options:
  -h, --help   print this help
`;

const restartUsage = `Usage: bento restart [OPTIONS] CONTAINER [CONTAINER...]

Restart detached containers (bento run -d), by name, id or id prefix: stop a running one (as
bento stop), then start it again (as bento start).

Options:
  -t, --time SECONDS   seconds to wait for the stop before killing (default: the container's, 10)
  -h, --help           print this help
`;

export const startCommand = dockerCommand({
  name: "start",
  summary: "Start detached containers that exited",
  usage: startUsage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, startUsage);
    if (values.help) return printHelp(io, startUsage);
    if (positionals.length === 0) throw new UsageError("start needs at least one container name or id", startUsage);
    return eachContainer(positionals, io, (c) => c.start());
  },
});

const restartOptions = { ...helpOption, time: { type: "string", short: "t" } } as const;

export const restartCommand = dockerCommand({
  name: "restart",
  summary: "Stop and start detached containers",
  usage: restartUsage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, restartOptions, restartUsage);
    if (values.help) return printHelp(io, restartUsage);
    if (positionals.length === 0) throw new UsageError("restart needs at least one container name or id", restartUsage);
    const timeout = stopTimeout(values.time, restartUsage);
    return eachContainer(positionals, io, (c) => c.restart(timeout));
  },
});
