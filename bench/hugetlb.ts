/**
 * crun 1.8 refuses a hybrid cgroup host while any controller sits on the cgroup2 hierarchy
 * ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). On this kind of
 * host only hugetlb is there, so for the length of the benchmark a v1 hugetlb hierarchy is
 * mounted, which moves the controller off cgroup2 (cgroups(7), "Cgroups version 2": a controller
 * is bound to one hierarchy at a time). After the unmount the kernel keeps the now unmounted v1
 * hierarchy until nothing references its root cgroup any more, and only then hands hugetlb back
 * to cgroup2: seen here after 30 s once, and still not after several minutes another time.
 * Meanwhile crun runs without the workaround and this module reports it as not needed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";

const mountPoint = "/sys/fs/cgroup/hugetlb";

/** What was done to give crun a v1 hugetlb hierarchy, and how to undo it. */
export interface HugetlbMount {
  /** What happened, for the report: "already mounted", "mounted", "not needed", or an error. */
  state: string;
  /** Unmounts and removes the directory if this process made them; idempotent and synchronous. */
  undo(): void;
}

function hugetlbOnV1(mountinfo: string): boolean {
  return mountinfo.split("\n").some((line) => {
    const [, fields = ""] = line.split(" - ");
    const [fsType, , superOptions = ""] = fields.split(" ");
    return fsType === "cgroup" && superOptions.split(",").includes("hugetlb");
  });
}

function hugetlbOnV2(): boolean {
  try {
    const unified = ["/sys/fs/cgroup/unified/cgroup.controllers", "/sys/fs/cgroup/cgroup.controllers"].find((p) => existsSync(p));
    return unified !== undefined && readFileSync(unified, "utf8").split(/\s+/).includes("hugetlb");
  } catch {
    return false;
  }
}

/** Mounts a v1 hugetlb hierarchy when the host is hybrid and hugetlb sits on cgroup2. */
export function mountHugetlbForCrun(): HugetlbMount {
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  const hybrid = /\s-\scgroup\s/.test(mountinfo) && /\s-\scgroup2\s/.test(mountinfo);
  if (hugetlbOnV1(mountinfo)) return { state: "already mounted", undo: () => undefined };
  if (!hybrid || !hugetlbOnV2()) return { state: "not needed (hugetlb is not on cgroup2 now)", undo: () => undefined };
  const madeDir = !existsSync(mountPoint);
  try {
    if (madeDir) mkdirSync(mountPoint);
    execFileSync("mount", ["-t", "cgroup", "-o", "hugetlb", "none", mountPoint], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    if (madeDir) rmdirSync(mountPoint);
    const stderr = (error as { stderr?: Buffer }).stderr?.toString("utf8").trim();
    return { state: `mount failed: ${stderr || (error as Error).message}`, undo: () => undefined };
  }
  let undone = false;
  return {
    state: "mounted",
    undo() {
      if (undone) return;
      undone = true;
      try {
        execFileSync("umount", [mountPoint], { stdio: "ignore" });
        if (madeDir) rmdirSync(mountPoint);
      } catch (error) {
        process.stderr.write(`bench: could not unmount ${mountPoint}: ${(error as Error).message}; run: umount ${mountPoint} && rmdir ${mountPoint}\n`);
      }
    },
  };
}
