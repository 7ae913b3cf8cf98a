/**
 * cgroup v2 driver: one directory under a base the process may manage (the root as root).
 * Controllers are enabled in the base's cgroup.subtree_control for the limits asked for.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { PlanRecord } from "../../native/plan-codec.js";
import { type CgroupDriver, type CgroupLimits, type CgroupSetup, type CgroupStats, groupName } from "./driver.js";
import { readKeyed, readNumber, readPids, removeCgroupDir, freezeCgroup2 } from "./files.js";

/** Docker's cpu-shares (2-262144) to cgroup v2 cpu.weight (1-10000), as runc and crun convert. */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262_144) return 10_000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.min(10_000, Math.max(1, Math.ceil(10 ** exponent)));
}

/** Docker's blkio-weight (10-1000) to io.weight (1-10000), as crun maps it. */
export function blkioToIoWeight(weight: number): number {
  return Math.round(1 + ((weight - 10) * 9999) / 990);
}

export class CgroupV2Driver implements CgroupDriver {
  readonly version = "v2" as const;

  /**
   * @param base the cgroup2 directory bento creates groups under.
   * @param available the controllers the base offers (its cgroup.controllers).
   */
  constructor(
    private readonly base: string,
    private readonly available: ReadonlySet<string>,
  ) {}

  private dir(id: string): string {
    return join(this.base, groupName(id));
  }

  paths(id: string): string[] {
    return [this.dir(id)];
  }

  setup(id: string, limits: CgroupLimits): CgroupSetup {
    const dir = this.dir(id);
    const wanted = new Set<string>();
    const writes: PlanRecord[] = [];
    const set = (controller: string, file: string, value: string) => {
      if (!this.available.has(controller)) {
        throw new Error(`cgroup v2: the ${controller} controller is not available under ${this.base}, so ${file} cannot be set (enable it in the parent's cgroup.subtree_control, or delegate it)`);
      }
      wanted.add(controller);
      writes.push(["write", join(dir, file), value]);
    };
    if (limits.memoryBytes !== undefined) set("memory", "memory.max", String(limits.memoryBytes));
    if (limits.cpuQuotaUs !== undefined) set("cpu", "cpu.max", `${limits.cpuQuotaUs} ${limits.cpuPeriodUs ?? 100_000}`);
    if (limits.cpuShares !== undefined) set("cpu", "cpu.weight", String(sharesToWeight(limits.cpuShares)));
    if (limits.pidsMax !== undefined) set("pids", "pids.max", String(limits.pidsMax));
    if (limits.ioWeight !== undefined) set("io", "io.weight", `default ${blkioToIoWeight(limits.ioWeight)}`);
    const ops: PlanRecord[] = [];
    if (wanted.size > 0) {
      ops.push(["write", join(this.base, "cgroup.subtree_control"), [...wanted].map((c) => `+${c}`).join(" ")]);
    }
    ops.push(["mkdir", dir, String(0o755)], ...writes);
    return { hostOps: ops, procsFiles: [], cloneInto: dir };
  }

  procsFiles(id: string): string[] {
    return [join(this.dir(id), "cgroup.procs")];
  }

  async stats(id: string): Promise<CgroupStats> {
    const dir = this.dir(id);
    return {
      memoryBytes: await readNumber(join(dir, "memory.current")),
      memoryPeakBytes: await readNumber(join(dir, "memory.peak")),
      cpuUsageNs: (await readKeyed(join(dir, "cpu.stat"), "usage_usec")) * 1000,
      pids: await readNumber(join(dir, "pids.current")),
    };
  }

  oomCounter(id: string): { file: string; key: string } | undefined {
    return { file: join(this.dir(id), "memory.events"), key: "oom_kill" };
  }

  async oomKilled(id: string): Promise<boolean> {
    return (await readKeyed(join(this.dir(id), "memory.events"), "oom_kill")) > 0;
  }

  async killAll(id: string): Promise<void> {
    const dir = this.dir(id);
    if (existsSync(join(dir, "cgroup.kill"))) {
      await writeFile(join(dir, "cgroup.kill"), "1");
      return;
    }
    // Before Linux 5.14: freeze, kill each process, thaw.
    await writeFile(join(dir, "cgroup.freeze"), "1");
    for (const pid of await readPids(join(dir, "cgroup.procs"))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await writeFile(join(dir, "cgroup.freeze"), "0");
  }

  async freeze(id: string, frozen: boolean): Promise<boolean> {
    await freezeCgroup2(this.dir(id), frozen);
    return true;
  }

  async remove(id: string): Promise<void> {
    await removeCgroupDir(this.dir(id));
  }
}
