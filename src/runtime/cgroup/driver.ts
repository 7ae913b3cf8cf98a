/**
 * One interface over cgroup v1 and v2 (crun's cgroup manager table, as a TS interface). A driver
 * decides paths and file contents; bento-shim carries out the writes in the container's plan.
 */
import type { PlanRecord } from "../../native/plan-codec.js";

/**
 * Limits in kernel units; undefined means unlimited.
 *
 * @example
 * ```ts
 * const running = await new Container(image, { resources: { memory: "256m", cpus: 0.5 } }).start();
 * (await running.inspect()).limits; // { memoryBytes: 268435456, cpuPeriodUs: 100000, cpuQuotaUs: 50000 }
 * ```
 */
export interface CgroupLimits {
  /** Memory limit, in bytes. */
  memoryBytes?: number;
  /** CPU quota per period, in microseconds. */
  cpuQuotaUs?: number;
  /** The period `cpuQuotaUs` applies to, in microseconds (100000 for `cpus`). */
  cpuPeriodUs?: number;
  /** Relative CPU weight in Docker's cpu-shares scale (2-262144, default 1024). */
  cpuShares?: number;
  /** The most processes and threads at once. */
  pidsMax?: number;
  /** Relative IO weight in Docker's blkio-weight scale (10-1000). */
  ioWeight?: number;
}

/** What the shim does to create a container's cgroups and put init in them. */
export interface CgroupSetup {
  /** mkdir and limit writes, run before clone. */
  hostOps: PlanRecord[];
  /** A cgroup2 directory to clone init into (CLONE_INTO_CGROUP), if any. */
  cloneInto?: string;
  /** On a pure cgroup v1 host, the container's group of the devices controller (its device policy). */
  devicesV1?: string;
  /** cgroup.procs files the shim writes init's pid to before releasing it. */
  procsFiles: string[];
}

/** Resource usage of a container. */
export interface CgroupStats {
  /** Memory in use now, in bytes, page cache included (`memory.current`; v1 `memory.usage_in_bytes`). */
  memoryBytes: number;
  /** The most memory used so far, in bytes (`memory.peak`; v1 `memory.max_usage_in_bytes`); 0 where the kernel does not report it. */
  memoryPeakBytes: number;
  /** CPU time used by all its processes, in nanoseconds (microsecond resolution on cgroup v2). */
  cpuUsageNs: number;
  /** The number of processes and threads in it now (`pids.current`). */
  pids: number;
}

export interface CgroupDriver {
  readonly version: "v1" | "v2";
  /** The directories a container's cgroups live in (recorded for the sweep). */
  paths(id: string): string[];
  setup(id: string, limits: CgroupLimits): CgroupSetup;
  /** cgroup.procs files an exec'd process joins. */
  procsFiles(id: string): string[];
  /** `initPid`: the container's PID 1, for a driver that made no cgroup (its stats come from /proc). */
  stats(id: string, initPid?: number): Promise<CgroupStats>;
  /** True when the kernel's OOM killer killed a process of this cgroup. */
  oomKilled(id: string): Promise<boolean>;
  /** Where the OOM-kill counter is: a flat keyed file and its key (read by the shim at exit). */
  oomCounter(id: string): { file: string; key: string } | undefined;
  /**
   * Kills every process in the container's cgroups (cgroup.kill, else freezer + SIGKILL); a driver
   * without cgroups kills the descendants of `initPid` (not `initPid` itself).
   */
  killAll(id: string, initPid?: number): Promise<void>;
  /**
   * Freezes (`true`) or thaws every process of the container, as `docker pause` does; false when
   * this driver has no way to (no cgroup of the container's own).
   */
  freeze(id: string, frozen: boolean): Promise<boolean>;
  /** Removes the cgroup directories; they must be empty (retries while the kernel drains them). */
  remove(id: string): Promise<void>;
}

/** The directory name of a container's cgroup in every hierarchy: flat, so none is left behind. */
export function groupName(id: string): string {
  return `bento-${id}`;
}
