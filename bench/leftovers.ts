/**
 * What the benchmark must not leave behind, checked after cleanup: cgroups of bento's
 * containers and of crun's, mounts and processes that refer to them or to the benchmark's
 * directories, and the temporary directory itself.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** What this run created. */
export interface Created {
  bentoIds: readonly string[];
  crunCgroupName: string;
  tempDir: string;
  /** The v1 hugetlb mount point, if this run mounted it. */
  hugetlbMountPoint?: string;
}

function cgroupHierarchies(mountinfo: string): string[] {
  return mountinfo
    .split("\n")
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(" ")[4]!)
    .filter(Boolean);
}

/** Everything left over, as readable strings; [] when clean. */
export function leftovers(created: Created): string[] {
  const left: string[] = [];
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  const cgroupNames = new Set([...created.bentoIds.map((id) => `bento-${id}`), created.crunCgroupName].filter((n) => n !== ""));
  for (const hierarchy of cgroupHierarchies(mountinfo)) {
    try {
      for (const name of readdirSync(hierarchy)) if (cgroupNames.has(name)) left.push(`cgroup ${join(hierarchy, name)}`);
    } catch {
      // hierarchy unreadable: nothing of ours can be in it
    }
  }
  const needles = [created.tempDir, ...created.bentoIds];
  for (const line of mountinfo.split("\n")) {
    if (needles.some((n) => line.includes(n))) left.push(`mount ${line.split(" ")[4]}`);
    if (created.hugetlbMountPoint !== undefined && line.split(" ")[4] === created.hugetlbMountPoint) left.push(`mount ${created.hugetlbMountPoint}`);
  }
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      if ([...cgroupNames].some((n) => cgroup.includes(n)) || cmdline.includes(created.tempDir)) left.push(`process ${pid} ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  if (existsSync(created.tempDir)) left.push(`directory ${created.tempDir}`);
  return left;
}
