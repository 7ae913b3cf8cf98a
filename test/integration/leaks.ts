/**
 * Leak checks every integration test runs: for the containers it made, no process, mount,
 * cgroup, state dir or container dir may remain.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { cgroupDriver } from "../../src/runtime/cgroup/detect.js";
import { config } from "../../src/config.js";

const isRoot = process.getuid?.() === 0;

function readMountinfo(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/mountinfo`, "utf8");
  } catch {
    return "";
  }
}

/** Processes (pid, command) whose cgroup (or, rootless, mount table) names one of these containers. */
export function processesOf(ids: readonly string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      // A zombie has ended; it waits only for the host's init to reap it.
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) continue;
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
      // Rootless containers without a delegated cgroup subtree have no cgroup: their mount
      // table names the container's overlay upper dir instead.
      const ofContainer = (id: string) => cgroup.includes(`bento-${id}`) || (!isRoot && readMountinfo(pid).includes(`/containers/${id}/`));
      if (ids.some(ofContainer)) found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** What a left-behind directory holds, to tell who wrote it last. */
function entriesOf(dir: string): string {
  try {
    return readdirSync(dir).join(", ") || "empty";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unreadable";
  }
}

/** Everything the given containers left behind, as readable strings; [] when clean. */
export function leftovers(ids: readonly string[]): string[] {
  const cfg = config();
  const left: string[] = [];
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  for (const id of ids) {
    for (const dir of cgroupDriver().paths(id)) if (existsSync(dir)) left.push(`cgroup ${dir}`);
    for (const dir of [join(cfg.runtimeDir, "containers", id), join(cfg.home, "containers", id)]) if (existsSync(dir)) left.push(`dir ${dir} (${entriesOf(dir)})`);
    if (mounts.includes(id)) left.push(`mount of ${id}`);
  }
  for (const p of processesOf(ids)) left.push(`process ${p}`);
  return left;
}

/**
 * Processes holding the lock file of one of these containers (a detached container's shim sits
 * outside its cgroup, so {@link processesOf} cannot see it); a lock deleted with its state dir
 * is still found by the link's name.
 */
export function helpersHolding(ids: readonly string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p) && p !== String(process.pid))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (ids.some((id) => target.includes(`/containers/${id}/lock`))) {
          found.push(`helper ${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`);
          break;
        }
      }
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return found;
}

/** True while `pid` runs (a zombie waiting for the host's init to reap it has ended). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
