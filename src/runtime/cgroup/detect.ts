/**
 * Chooses the cgroup driver for this host, as crun's detect_cgroup_mode does: a cgroup2 mount
 * at /sys/fs/cgroup means unified (v2); otherwise v1 controllers, plus the controller-less
 * cgroup2 hierarchy when the host is hybrid.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../config.js";
import { HostUnsupportedError } from "../../errors.js";
import type { CgroupDriver } from "./driver.js";
import { CgroupV1Driver, type V1Controller } from "./v1.js";
import { CgroupV2Driver } from "./v2.js";
import { UndelegatedCgroupDriver } from "./undelegated.js";

/** A cgroup filesystem mount from mountinfo. */
export interface CgroupMount {
  mountPoint: string;
  fsType: "cgroup" | "cgroup2";
  /** For v1: the controllers bound to it (from the super options). */
  controllers: string[];
}

const v1Controllers: readonly V1Controller[] = ["memory", "cpu", "cpuacct", "pids", "freezer", "blkio", "devices"];

/** Parses /proc/self/mountinfo text into its cgroup mounts (mountinfo: proc(5)). */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const before = line.slice(0, sep).split(" ");
    const [fsType, , superOptions = ""] = line.slice(sep + 3).split(" ");
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const mountPoint = (before[4] ?? "").replace(/\\040/g, " ");
    mounts.push({ mountPoint, fsType, controllers: fsType === "cgroup" ? superOptions.split(",") : [] });
  }
  return mounts;
}

/** Picks a driver from the host's cgroup mounts; exported for unit tests. */
export function driverForMounts(mounts: CgroupMount[], readControllers: (dir: string) => string, choice: "auto" | "v1" | "v2" = "auto"): CgroupDriver {
  const root = mounts.find((m) => m.mountPoint === "/sys/fs/cgroup");
  const v2Root = root?.fsType === "cgroup2" ? root : choice === "v2" ? mounts.find((m) => m.fsType === "cgroup2") : undefined;
  if (v2Root && choice !== "v1") {
    const available = new Set(readControllers(v2Root.mountPoint).trim().split(/\s+/).filter(Boolean));
    return new CgroupV2Driver(v2Root.mountPoint, available);
  }
  if (choice === "v2") throw new HostUnsupportedError("BENTO_CGROUP=v2, but no cgroup2 hierarchy is mounted; mount one or unset BENTO_CGROUP");
  const byController = new Map<V1Controller, string>();
  for (const m of mounts) {
    if (m.fsType !== "cgroup") continue;
    for (const c of v1Controllers) if (m.controllers.includes(c) && !byController.has(c)) byController.set(c, m.mountPoint);
  }
  const unified = mounts.find((m) => m.fsType === "cgroup2")?.mountPoint;
  if (byController.size === 0 && unified === undefined) {
    throw new HostUnsupportedError("no cgroup filesystem is mounted; mount cgroup2 on /sys/fs/cgroup (or the v1 controllers) and try again");
  }
  return new CgroupV1Driver(byController, unified);
}

let detected: CgroupDriver | undefined;

/** The driver for this host, detected once. */
export function cgroupDriver(): CgroupDriver {
  const mounts = () => parseCgroupMounts(readFileSync("/proc/self/mountinfo", "utf8"));
  const readControllers = (dir: string) => readFileSync(join(dir, "cgroup.controllers"), "utf8");
  if (process.geteuid?.() !== 0) detected ??= rootlessDriver(mounts(), readControllers, config().cgroupParent);
  detected ??= driverForMounts(mounts(), readControllers, config().cgroup);
  return detected;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    accessSync(join(dir, "cgroup.procs"), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rootless: a cgroup2 subtree delegated to this user (`BENTO_CGROUP_PARENT`, else systemd's
 * `user@UID.service` on a cgroup v2 host), or no cgroups at all (see undelegated.ts).
 * Exported for unit tests.
 */
export function rootlessDriver(mounts: CgroupMount[], readControllers: (dir: string) => string, parent: string | undefined, uid = process.getuid?.() ?? 0): CgroupDriver {
  const v2 = mounts.filter((m) => m.fsType === "cgroup2").map((m) => m.mountPoint);
  if (parent !== undefined) {
    const inV2 = v2.some((m) => parent === m || parent.startsWith(`${m}/`));
    if (!inV2) throw new HostUnsupportedError(`BENTO_CGROUP_PARENT: "${parent}" is not inside a cgroup2 hierarchy (${v2.join(", ") || "none is mounted"}); set it to a cgroup2 directory you own, or unset it`);
    if (!writable(parent)) throw new HostUnsupportedError(`BENTO_CGROUP_PARENT: "${parent}" is not writable by uid ${uid}; chown it (and its cgroup.procs, cgroup.subtree_control) to this user, or unset it`);
    return new CgroupV2Driver(parent, new Set(readControllers(parent).trim().split(/\s+/).filter(Boolean)));
  }
  const unifiedRoot = mounts.find((m) => m.mountPoint === "/sys/fs/cgroup" && m.fsType === "cgroup2");
  if (unifiedRoot) {
    const service = join(unifiedRoot.mountPoint, `user.slice/user-${uid}.slice/user@${uid}.service`);
    if (writable(service)) return new CgroupV2Driver(service, new Set(readControllers(service).trim().split(/\s+/).filter(Boolean)));
    return new UndelegatedCgroupDriver(`${service} is not delegated to uid ${uid}`);
  }
  return new UndelegatedCgroupDriver(
    v2.length > 0 ? `this host's cgroup v1 controllers are root's and its cgroup2 hierarchy (${v2[0]}) has no subtree delegated to uid ${uid}` : `this host has no cgroup2 hierarchy (its cgroup v1 controllers are root's)`,
  );
}
