/**
 * Prepares crun for the benchmark: the v1 hugetlb workaround, an OCI bundle, a private state
 * directory (crun --root) and one trial run, so a failure becomes a row's reason instead of a crash.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { aptPackage, findExecutable } from "./host-tools.js";
import { type HugetlbMount, mountHugetlbForCrun } from "./hugetlb.js";
import { writeOciBundle } from "./oci-bundle.js";

/** crun, ready to run /bin/true in the benchmark rootfs (or why it cannot). */
export interface CrunSetup {
  /** Why crun cannot run here, if it cannot. */
  unavailable?: string;
  /** The crun executable and the arguments of one run. */
  file: string;
  args: string[];
  /** The cgroup directory name crun creates in each hierarchy (for the leak check). */
  cgroupName: string;
  hugetlb: HugetlbMount;
  /** Deletes any container left in the private state dir and undoes the hugetlb mount. */
  cleanup(): void;
}

/** Sets crun up under `workDir`; never throws. */
export function prepareCrun(workDir: string, rootfs: string): CrunSetup {
  const id = `crun-bench-${process.pid}`;
  const file = findExecutable("crun");
  const none: CrunSetup = { file: "crun", args: [], cgroupName: id, hugetlb: { state: "not needed", undo: () => undefined }, cleanup: () => undefined };
  if (file === undefined) return { ...none, unavailable: `not installed (apt-get install -y ${aptPackage.crun})` };
  // Its bundle asks for cgroups and the v1 hugetlb workaround mounts: both are root's.
  if (process.getuid?.() !== 0) return { ...none, file, unavailable: "needs root here (the bench was not run as root)" };
  const stateDir = join(workDir, "crun-state");
  const bundle = writeOciBundle(join(workDir, "crun-bundle"), rootfs, ["/bin/true"], `/${id}`);
  const hugetlb = mountHugetlbForCrun();
  const args = ["--root", stateDir, "run", "--bundle", bundle, id];
  const cleanup = () => {
    try {
      execFileSync(file, ["--root", stateDir, "delete", "--force", id], { stdio: "ignore" });
    } catch {
      // nothing to delete: crun run removes the container when it exits
    }
    hugetlb.undo();
  };
  const trial = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
  if (trial.status !== 0) {
    const why = trial.error?.message ?? (trial.stderr.trim() || `exit status ${trial.status ?? trial.signal}`);
    const hint = hugetlb.state.startsWith("mount failed") ? ` (v1 hugetlb workaround: ${hugetlb.state})` : "";
    return { file, args, cgroupName: id, hugetlb, cleanup, unavailable: `fails here: ${why}${hint}` };
  }
  return { file, args, cgroupName: id, hugetlb, cleanup };
}
