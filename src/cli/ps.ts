/**
 * `bento ps [-a] [-q] [--json]`: containers on this machine, from every process.
 */
import { listMachineContainers, type MachineContainer, type MachineContainerStatus } from "../runtime/machine-containers.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, writeJson, type Command } from "./command.js";
import { formatAgo, formatTable, shortId } from "./table.js";

const usage = `Usage: bento ps [OPTIONS]

List containers on this machine, whichever process started them. A container belongs to the
process that started it and lives as long as that process does, unless it was started detached
(bento run -d), which outlives it.

Statuses:
  running       its owner process (or, detached, its helper) is alive and its processes run
  stopped       its owner process is alive; nothing runs in it now
  exited        detached, and its command ended; it stays until "bento rm" (shown with -a)
  left behind   its owner process died; its files remain until "bento prune" (shown with -a)

Options:
  -a, --all     also show exited containers and those left behind by processes that died
  -q, --quiet   print only the ids
      --json    print JSON (every field, full ids)
  -h, --help    print this help
`;

const options = { ...helpOption, all: { type: "boolean", short: "a" }, quiet: { type: "boolean", short: "q" }, json: { type: "boolean" } } as const;

/** The STATUS column's words. */
export function statusText(status: MachineContainerStatus): string {
  return status === "left-behind" ? "left behind" : status;
}

/** The JSON form of a container: full ids, ISO dates. */
export function containerJson(c: MachineContainer): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    ownerPid: c.ownerPid ?? null,
    ownerAlive: c.ownerAlive,
    created: c.createdAt?.toISOString() ?? null,
    imageId: c.imageId ?? null,
    labels: c.labels,
    volumes: c.volumes,
    pids: c.pids,
    logPath: c.logPath,
  };
}

/** The table `bento ps` prints. */
export function psTable(containers: readonly MachineContainer[], now = new Date()): string {
  return formatTable(
    ["ID", "NAME", "STATUS", "OWNER PID", "CREATED"],
    containers.map((c) => [shortId(c.id), c.name, statusText(c.status), c.ownerPid === undefined ? "-" : String(c.ownerPid), formatAgo(c.createdAt, now)]),
  );
}

export const psCommand: Command = {
  name: "ps",
  summary: "List containers on this machine (from every process)",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length > 0) throw new UsageError(`ps takes no arguments (got "${positionals[0]}")`, usage);
    // As docker ps: without -a, only the containers that are up (running, or stopped by an owner that may start them again).
    const containers = listMachineContainers().filter((c) => values.all || c.status === "running" || c.status === "stopped");
    if (values.json) writeJson(io, containers.map(containerJson));
    else if (values.quiet) io.stdout.write(containers.map((c) => `${shortId(c.id)}\n`).join(""));
    else io.stdout.write(psTable(containers));
    return 0;
  },
};
