/**
 * The processes behind a container, seen from any process on the machine: whether its owner still
 * holds its lock, which pids run in its cgroups, and killing them all.
 */
import { closeSync, existsSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadAddon } from "../native/load.js";
import { readPidsSync } from "./cgroup/files.js";

/**
 * Whether a lock file is held by its owner: a shared lock taken on a fresh open of it fails
 * only while someone holds it exclusively (flock(2) locks belong to open file descriptions, so
 * this probe never disturbs the owner's lock). "missing" when there is no lock file.
 *
 * @example
 * ```ts
 * const ownerAlive = probeLock(join(runtimeDir, "containers", id, "lock")) === "held";
 * ```
 */
export function probeLock(lockFile: string): "held" | "free" | "missing" {
  let fd: number;
  try {
    fd = openSync(lockFile, "r");
  } catch {
    return "missing";
  }
  try {
    return loadAddon().flock(fd, "shared", false) ? "free" : "held";
  } finally {
    closeSync(fd);
  }
}

/**
 * The processes in a set of cgroup directories (each pid once).
 *
 * @example
 * ```ts
 * const running = cgroupPids(record.cgroupPaths).length > 0;
 * ```
 */
export function cgroupPids(cgroupPaths: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupPaths) for (const pid of readPidsSync(join(dir, "cgroup.procs"))) pids.add(pid);
  return [...pids];
}

/**
 * Kills every process in a container's cgroups: `cgroup.kill` where a cgroup v2 directory has
 * one (the kernel kills all at once, forks included), and SIGKILL to each pid in cgroup.procs
 * until none is left. Resolves true when the cgroups are empty, false if `timeoutMs` passed first.
 *
 * @example
 * ```ts
 * await killCgroups(record.cgroupPaths);
 * ```
 */
export async function killCgroups(cgroupPaths: readonly string[], timeoutMs = 5000): Promise<boolean> {
  for (const dir of cgroupPaths) {
    const kill = join(dir, "cgroup.kill");
    if (!existsSync(kill)) continue;
    try {
      writeFileSync(kill, "1");
    } catch {
      // removed meanwhile, or not writable: the SIGKILL loop below does it
    }
  }
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pids = cgroupPids(cgroupPaths);
    if (pids.length === 0) return true;
    if (Date.now() > end) return false;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }
}
