/**
 * `bento top CONTAINER`: the processes running in a container, as docker top (its ps -ef columns).
 */
import { readFileSync } from "node:fs";
import { descendants } from "../runtime/cgroup/undelegated.js";
import { findMachineContainer } from "../runtime/machine-containers.js";
import { BentoError } from "../errors.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { formatTable } from "./table.js";

const usage = `Usage: bento top CONTAINER

List the processes running in a container (by name, id or id prefix), whichever process started
it: their user id, host pid, parent's host pid and command line, as docker top shows by default.
Unlike docker top, it takes no ps options.

Options:
  -h, --help   print this help
`;

/** One process as /proc describes it; undefined when it ended while we looked. */
function describeProcess(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the fields after it follow the last ")".
    const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = after[1] ?? "?";
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "?";
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    return [uid, String(pid), ppid, cmdline === "" ? `[${name}]` : cmdline];
  } catch {
    return undefined;
  }
}

export const topCommand = dockerCommand({
  name: "top",
  summary: "List the processes running in a container",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "top needs a container name or id" : "top takes one container (it takes no ps options)", usage);
    const c = findMachineContainer(positionals[0]!);
    if (c.status !== "running") throw new BentoError("ERR_CONTAINER_NOT_RUNNING", `container ${c.name} is not running (${c.status}); start it first`);
    // Without a cgroup (rootless, not delegated) only the init is recorded: its descendants are the rest.
    const pids = c.record !== undefined && c.record.cgroupPaths.length === 0 ? c.pids.flatMap(descendants) : c.pids;
    const rows = [...pids]
      .sort((a, b) => a - b)
      .map(describeProcess)
      .filter((r): r is string[] => r !== undefined);
    io.stdout.write(formatTable(["UID", "PID", "PPID", "CMD"], rows));
    return 0;
  },
});
