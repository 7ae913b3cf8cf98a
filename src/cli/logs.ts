/**
 * `bento logs [-f] [-t] [--tail N] <name|id>`: a container's output, from its log file, whichever
 * process started it. Its stdout goes to stdout and its stderr to stderr, as `docker logs` does.
 */
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { followLogLines, formatLines, readLogLines, type LogLine } from "../runtime/logs.js";
import { containerEnded, findMachineContainer, type MachineContainer } from "../runtime/machine-containers.js";
import { helpOption, parseCommandArgs, parseTail, UsageError } from "./args.js";
import { printHelp, type CliIo, type Command } from "./command.js";
import { linesBetween, parseLogTime } from "./log-time.js";

const usage = `Usage: bento logs [OPTIONS] CONTAINER

Print the output of a container (by name, id or id prefix): running, stopped, or left behind.

Options:
  -f, --follow       keep printing new output until the container ends
  -t, --timestamps   prefix each line with its time (RFC 3339, nanoseconds)
      --tail N       only the last N lines ("all": every line, the default)
  -h, --help         print this help
`;

const options = { ...helpOption, follow: { type: "boolean", short: "f" }, timestamps: { type: "boolean", short: "t" }, tail: { type: "string" }, since: { type: "string" }, until: { type: "string" } } as const;

const pollMs = 200;

async function untilEnded(c: MachineContainer, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && !containerEnded(c)) await sleep(pollMs);
  // The shim writes the last lines after the processes are gone: give it a moment.
  await sleep(pollMs);
}

/** Prints the lines after the first `skip` as they are written, until the container ends (bento compose logs -f too). */
export async function follow(c: MachineContainer, skip: number, timestamps: boolean, io: CliIo): Promise<void> {
  const stop = new AbortController();
  let ended = false;
  const done = untilEnded(c, stop.signal).then(() => (ended = true));
  try {
    // The shim creates the log file when the container first starts.
    while (!existsSync(c.logPath)) {
      if (ended) return;
      await sleep(pollMs);
    }
    for await (const line of followLogLines(c.logPath, done)) {
      if (skip > 0) skip--;
      else write(io, [line], timestamps);
    }
  } finally {
    stop.abort();
    await done;
  }
}

function write(io: CliIo, lines: readonly LogLine[], timestamps: boolean): void {
  for (const line of lines) (line.stream === "stdout" ? io.stdout : io.stderr).write(formatLines([line], timestamps));
}

export const logsCommand: Command = {
  name: "logs",
  summary: "Print a container's output",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "logs needs a container name or id" : "logs takes one container", usage);
    const tail = parseTail(values.tail, usage);
    const timestamps = values.timestamps ?? false;
    const c = findMachineContainer(positionals[0]!);
    const since = values.since === undefined ? undefined : parseLogTime("--since", values.since, usage);
    const until = values.until === undefined ? undefined : parseLogTime("--until", values.until, usage);
    if (until !== undefined && values.follow) throw new UsageError("--until ends the output, -f follows it: give one of them", usage);
    const all = await readLogLines(c.logPath);
    const kept = linesBetween(all, since, until);
    write(io, tail === undefined ? kept : kept.slice(Math.max(0, kept.length - tail)), timestamps);
    if (values.follow) await follow(c, all.length, timestamps, io);
    return 0;
  },
};
