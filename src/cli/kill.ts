/**
 * `bento kill [-s SIGNAL] CONTAINER...`: sends a signal to detached containers, as docker kill.
 */
import { signalNumber } from "../runtime/wait-status.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { eachContainer } from "./each-container.js";

const usage = `Usage: bento kill [OPTIONS] CONTAINER [CONTAINER...]

Send a signal to the main process of detached containers (bento run -d), by name, id or id
prefix. The default, SIGKILL, ends it at once; the container stays, exited, until bento rm.

Options:
  -s, --signal SIGNAL   the signal: a name (SIGHUP, HUP) or a number (default SIGKILL)
  -h, --help            print this help
`;

const options = { ...helpOption, signal: { type: "string", short: "s" } } as const;

/** A signal as docker takes it: "SIGHUP", "HUP", "hup" or "1"; a UsageError for anything else. */
function parseSignal(value: string): number {
  const n = signalNumber(/^\d+$/.test(value) ? Number(value) : value);
  if (n === undefined) throw new UsageError(`--signal "${value}" is not a signal; use a name such as SIGHUP or HUP, or a number such as 1`, usage);
  return n;
}

export const killCommand = dockerCommand({
  name: "kill",
  summary: "Send a signal to detached containers (default SIGKILL)",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length === 0) throw new UsageError("kill needs at least one container name or id", usage);
    const signal = values.signal === undefined ? "SIGKILL" : parseSignal(values.signal);
    return eachContainer(positionals, io, (c) => c.kill(signal));
  },
});
