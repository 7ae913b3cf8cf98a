/**
 * Small cgroupfs file helpers shared by both drivers.
 */
import { readFile, rmdir, writeFile } from "node:fs/promises";
import { readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Reads a cgroup file, or undefined when it does not exist. */
export async function readCgroupFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The number in a one-number file (0 when missing). */
export async function readNumber(path: string): Promise<number> {
  const text = await readCgroupFile(path);
  const n = Number((text ?? "0").trim());
  return Number.isFinite(n) ? n : 0;
}

/** A field of a flat keyed file such as memory.events ("oom_kill 1"). */
export async function readKeyed(path: string, key: string): Promise<number> {
  const text = (await readCgroupFile(path)) ?? "";
  for (const line of text.split("\n")) {
    const [k, v] = line.split(" ");
    if (k === key) return Number(v);
  }
  return 0;
}

/**
 * Freezes or thaws a cgroup through `control` (v2 `cgroup.freeze`, v1 `freezer.state`) and waits
 * until `state` says it is done: freezing is asynchronous, a task in the kernel stops only once
 * it reaches a point where it may. Thaws again and throws when it does not settle in 5 seconds.
 */
export async function setFrozen(control: string, values: { frozen: string; thawed: string }, state: string, done: (text: string) => boolean, frozen: boolean): Promise<void> {
  await writeFile(control, frozen ? values.frozen : values.thawed);
  for (let waited = 0; waited < 5000; waited += 5) {
    if (done((await readCgroupFile(state)) ?? "")) return;
    await sleep(5);
  }
  if (frozen) await writeFile(control, values.thawed);
  throw new Error(`${control}: the cgroup did not ${frozen ? "freeze" : "thaw"} within 5 seconds`);
}

/** {@link setFrozen} for a cgroup2 directory: `cgroup.freeze`, settled when `cgroup.events` says so. */
export function freezeCgroup2(dir: string, frozen: boolean): Promise<void> {
  return setFrozen(join(dir, "cgroup.freeze"), { frozen: "1", thawed: "0" }, join(dir, "cgroup.events"), (events) => events.includes(`frozen ${frozen ? 1 : 0}`), frozen);
}

/** The pids in a cgroup.procs file. */
export async function readPids(procsFile: string): Promise<number[]> {
  const text = (await readCgroupFile(procsFile)) ?? "";
  return text.split("\n").filter(Boolean).map(Number);
}

/**
 * rmdir with retries: a cgroup stays busy for a moment after its last process died (crun's
 * destroy_cgroup_path retries the same way). A missing directory is already removed.
 */
export async function removeCgroupDir(dir: string, attempts = 100): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || i >= attempts) throw error;
      await sleep(10);
    }
  }
}

/** The synchronous form, for exit hooks that cannot wait for promises. */
export function removeCgroupDirSync(dir: string, deadlineMs = 2000): void {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || Date.now() > end) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** Reads the pids of a cgroup.procs file synchronously ([] when missing). */
export function readPidsSync(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const pageSize = 4096;
const clockTicksPerSecond = 100; // USER_HZ on Linux

/**
 * Stats of a set of processes from /proc, for a container with no v1 memory or cpu cgroup: the
 * resident memory now (also as the peak: there is no record of one), and the CPU time of the
 * processes and of the children they waited for.
 */
export async function procStats(pids: readonly number[]): Promise<{ memoryBytes: number; memoryPeakBytes: number; cpuUsageNs: number; pids: number }> {
  let memoryBytes = 0,
    ticks = 0;
  for (const pid of pids) {
    try {
      const statm = await readFile(`/proc/${pid}/statm`, "utf8");
      memoryBytes += Number(statm.split(" ")[1] ?? 0) * pageSize;
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after the command.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // exited while we looked
    }
  }
  return { memoryBytes, memoryPeakBytes: memoryBytes, cpuUsageNs: (ticks * 1e9) / clockTicksPerSecond, pids: pids.length };
}
