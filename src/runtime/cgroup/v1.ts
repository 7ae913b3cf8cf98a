/**
 * cgroup v1 driver: one directory per controller hierarchy. On hybrid hosts the controller-less
 * cgroup2 hierarchy ("unified") is used too, as the reliable handle to clone into, kill all and
 * ask whether the group is empty (systemd does the same on hybrid hosts).
 *
 * There, a container without limits joins only its unified group: moving a process into a v1
 * cgroup waits for an RCU grace period (2-20 ms on an idle host, most of a start), while
 * CLONE_INTO_CGROUP into the unified group costs nothing. Its stats then come from /proc.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { PlanRecord } from "../../native/plan-codec.js";
import { type CgroupDriver, type CgroupLimits, type CgroupSetup, type CgroupStats, groupName } from "./driver.js";
import { procStats, readKeyed, readNumber, readPids, removeCgroupDir, setFrozen, freezeCgroup2 } from "./files.js";

/** The v1 controllers bento uses; each maps to the mount point of its hierarchy. */
export type V1Controller = "memory" | "cpu" | "cpuacct" | "pids" | "freezer" | "blkio" | "devices";

export class CgroupV1Driver implements CgroupDriver {
  readonly version = "v1" as const;

  constructor(
    private readonly mounts: ReadonlyMap<V1Controller, string>,
    private readonly unified: string | undefined,
  ) {}

  private dir(controller: V1Controller, id: string): string | undefined {
    const mount = this.mounts.get(controller);
    return mount === undefined ? undefined : join(mount, groupName(id));
  }

  // blkio is only joined when an IO weight is asked for: one less mkdir on every start. devices
  // only on a pure v1 host: with a unified hierarchy, a BPF program there holds the device policy.
  private controllerDirs(id: string, withBlkio = true): string[] {
    const dirs = new Set<string>();
    for (const c of this.mounts.keys()) if ((withBlkio || c !== "blkio") && (c !== "devices" || this.unified === undefined)) dirs.add(this.dir(c, id)!);
    return [...dirs];
  }

  private unifiedDir(id: string): string | undefined {
    return this.unified === undefined ? undefined : join(this.unified, groupName(id));
  }

  paths(id: string): string[] {
    const u = this.unifiedDir(id);
    return u === undefined ? this.controllerDirs(id) : [...this.controllerDirs(id), u];
  }

  setup(id: string, limits: CgroupLimits): CgroupSetup {
    const anyLimit = Object.values(limits).some((v) => v !== undefined);
    const dirs = this.unified !== undefined && !anyLimit ? [] : this.controllerDirs(id, limits.ioWeight !== undefined);
    const unified = this.unifiedDir(id);
    const ops: PlanRecord[] = [...dirs, ...(unified === undefined ? [] : [unified])].map((d) => ["mkdir", d, String(0o755)]);
    const write = (c: V1Controller, file: string, value: number) => {
      const d = this.dir(c, id);
      if (d === undefined) throw new Error(`cgroup v1: the ${c} controller is not mounted, so ${file} cannot be set`);
      ops.push(["write", join(d, file), String(value)]);
    };
    if (limits.memoryBytes !== undefined) write("memory", "memory.limit_in_bytes", limits.memoryBytes);
    if (limits.cpuQuotaUs !== undefined) {
      write("cpu", "cpu.cfs_period_us", limits.cpuPeriodUs ?? 100_000);
      write("cpu", "cpu.cfs_quota_us", limits.cpuQuotaUs);
    }
    if (limits.cpuShares !== undefined) write("cpu", "cpu.shares", limits.cpuShares);
    if (limits.pidsMax !== undefined) write("pids", "pids.max", limits.pidsMax);
    if (limits.ioWeight !== undefined) write("blkio", "blkio.weight", limits.ioWeight);
    const procsFiles = dirs.map((d) => join(d, "cgroup.procs"));
    if (unified !== undefined) return { hostOps: ops, procsFiles, cloneInto: unified };
    const devices = this.dir("devices", id);
    return devices === undefined ? { hostOps: ops, procsFiles } : { hostOps: ops, procsFiles, devicesV1: devices };
  }

  procsFiles(id: string): string[] {
    return this.paths(id)
      .filter((d) => existsSync(d))
      .map((d) => join(d, "cgroup.procs"));
  }

  async stats(id: string): Promise<CgroupStats> {
    const mem = this.dir("memory", id),
      cpu = this.dir("cpuacct", id),
      pids = this.dir("pids", id);
    const unified = this.unifiedDir(id);
    if (unified !== undefined && (mem === undefined || !existsSync(mem))) return procStats(await readPids(join(unified, "cgroup.procs")));
    return {
      memoryBytes: mem ? await readNumber(join(mem, "memory.usage_in_bytes")) : 0,
      memoryPeakBytes: mem ? await readNumber(join(mem, "memory.max_usage_in_bytes")) : 0,
      cpuUsageNs: cpu ? await readNumber(join(cpu, "cpuacct.usage")) : 0,
      pids: pids ? await readNumber(join(pids, "pids.current")) : 0,
    };
  }

  oomCounter(id: string): { file: string; key: string } | undefined {
    const mem = this.dir("memory", id);
    return mem === undefined ? undefined : { file: join(mem, "memory.oom_control"), key: "oom_kill" };
  }

  async oomKilled(id: string): Promise<boolean> {
    const mem = this.dir("memory", id);
    return mem !== undefined && (await readKeyed(join(mem, "memory.oom_control"), "oom_kill")) > 0;
  }

  async killAll(id: string): Promise<void> {
    const u = this.unifiedDir(id);
    if (u !== undefined) {
      try {
        await writeFile(join(u, "cgroup.kill"), "1");
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    // No cgroup.kill: freeze so nothing can fork while we kill, then thaw (crun's fallback).
    const freezer = this.dir("freezer", id);
    const procs = join(freezer ?? this.controllerDirs(id)[0]!, "cgroup.procs");
    if (freezer) await writeFile(join(freezer, "freezer.state"), "FROZEN");
    for (const pid of await readPids(procs)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (freezer) await writeFile(join(freezer, "freezer.state"), "THAWED");
  }

  // The freezer controller, else the unified hierarchy's cgroup.freeze (a core file of every
  // non-root cgroup2, with or without controllers).
  async freeze(id: string, frozen: boolean): Promise<boolean> {
    const freezer = this.dir("freezer", id);
    if (freezer !== undefined && existsSync(freezer)) {
      const file = join(freezer, "freezer.state");
      await setFrozen(file, { frozen: "FROZEN", thawed: "THAWED" }, file, (state) => state.trim() === (frozen ? "FROZEN" : "THAWED"), frozen);
      return true;
    }
    const u = this.unifiedDir(id);
    if (u === undefined || !existsSync(join(u, "cgroup.freeze"))) return false;
    await freezeCgroup2(u, frozen);
    return true;
  }

  async remove(id: string): Promise<void> {
    await Promise.all(this.paths(id).map((d) => removeCgroupDir(d)));
  }
}
