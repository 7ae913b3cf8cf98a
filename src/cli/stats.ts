/**
 * `bento stats [--no-stream] [CONTAINER...]`: containers' resource usage, from their cgroups.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { cgroupDriver } from "../runtime/cgroup/detect.js";
import { findMachineContainer, listMachineContainers, type MachineContainer } from "../runtime/machine-containers.js";
import { helpOption, parseCommandArgs } from "./args.js";
import { printHelp, type CliIo } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { formatBytes, formatTable, shortId } from "./table.js";

const usage = `Usage: bento stats [OPTIONS] [CONTAINER...]

Show the resource usage of running containers (all of them, or those named), whichever process
started them: CPU use over the last second, memory in use (page cache included) and its peak,
and the number of processes and threads. Without --no-stream, a new table every second until
Ctrl-C. Unlike docker stats, no network or block I/O columns.

Options:
      --no-stream   print one table and exit
  -a, --all         also list containers that do not run (their usage is zero)
  -h, --help        print this help
`;

const options = { ...helpOption, "no-stream": { type: "boolean" }, all: { type: "boolean", short: "a" } } as const;
const sampleMs = 1000;

interface Sample {
  c: MachineContainer;
  cpuUsageNs: number;
  memoryBytes: number;
  memoryPeakBytes: number;
  pids: number;
}

async function sample(c: MachineContainer): Promise<Sample> {
  if (c.status !== "running") return { c, cpuUsageNs: 0, memoryBytes: 0, memoryPeakBytes: 0, pids: 0 };
  // A driver that made no cgroup (rootless, undelegated) reads the container's init's tree.
  const stats = await cgroupDriver()
    .stats(c.id, Math.min(...c.pids))
    .catch(() => ({ cpuUsageNs: 0, memoryBytes: 0, memoryPeakBytes: 0, pids: 0 }));
  return { c, ...stats };
}

function table(before: readonly Sample[], after: readonly Sample[], elapsedNs: number): string {
  return formatTable(
    ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE", "MEM PEAK", "PIDS"],
    after.map((s, i) => {
      const cpu = elapsedNs > 0 ? (Math.max(0, s.cpuUsageNs - before[i]!.cpuUsageNs) / elapsedNs) * 100 : 0;
      return [shortId(s.c.id), s.c.name, `${cpu.toFixed(2)}%`, formatBytes(s.memoryBytes), formatBytes(s.memoryPeakBytes), String(s.pids)];
    }),
  );
}

async function round(containers: readonly MachineContainer[], io: CliIo): Promise<void> {
  const start = process.hrtime.bigint();
  const before = await Promise.all(containers.map(sample));
  await sleep(sampleMs);
  const after = await Promise.all(containers.map(sample));
  io.stdout.write(table(before, after, Number(process.hrtime.bigint() - start)));
}

export const statsCommand = dockerCommand({
  name: "stats",
  summary: "Show containers' CPU, memory and process counts",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    const pick = () => (positionals.length > 0 ? positionals.map((ref) => findMachineContainer(ref)) : listMachineContainers().filter((c) => values.all || c.status === "running"));
    if (values["no-stream"]) {
      await round(pick(), io);
      return 0;
    }
    for (;;) await round(pick(), io);
  },
});
