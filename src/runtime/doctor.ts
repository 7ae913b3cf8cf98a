/**
 * `doctor()`: what this machine gives bento, checked the way bento uses it, with the exact fix
 * for each missing piece (`bento doctor` prints it).
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { config } from "../config.js";
import { cgroupDriver } from "./cgroup/detect.js";
import { DELEGATION_FIX, UndelegatedCgroupDriver } from "./cgroup/undelegated.js";
import { TUN_FIX, tunDeviceOpen } from "./host-devices.js";
import { egressHelperPath, egressHelpers, egressInstallFix } from "./egress-helpers.js";
import { FUSE_DEVICE_FIX, FUSE_OVERLAYFS_INSTALL_FIX, fuseDeviceOpen, fuseOverlayfsPath, type OverlayMount, overlayMount } from "./overlay-mode.js";
import { hostIdFacts, idMapping, isRootless, userNamespace } from "./user-namespace.js";

/** One finding of {@link doctor}. */
export interface DoctorCheck {
  /** What was checked: "privileges", "user namespaces", "id mapping", "overlay", "cgroups", "network", "kernel". */
  name: string;
  /** "ok": works; "limited": works with the limits `detail` names; "missing": what needs it fails. */
  status: "ok" | "limited" | "missing";
  /** What was found. */
  detail: string;
  /** The exact fix, for "limited" and "missing". */
  fix?: string;
}

/** The report of {@link doctor}. */
export interface DoctorReport {
  /** True when bento runs without root (in a user namespace). */
  rootless: boolean;
  /** The kernel release (`uname -r`). */
  kernel: string;
  /** One finding per facility, in a fixed order. */
  checks: DoctorCheck[];
}

function kernelAtLeast(kernel: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = kernel.split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

async function userNamespaceCheck(): Promise<DoctorCheck> {
  const name = "user namespaces";
  if (!isRootless()) return { name, status: "ok", detail: "not needed as root" };
  try {
    const ns = await userNamespace();
    return { name, status: "ok", detail: `created one (held by pid ${ns.holderPid}); containers, execs and networks run in it` };
  } catch (error) {
    const clone = readSysctl("/proc/sys/kernel/unprivileged_userns_clone");
    const max = readSysctl("/proc/sys/user/max_user_namespaces");
    return {
      name,
      status: "missing",
      detail: `${(error as Error).message} (kernel.unprivileged_userns_clone=${clone ?? "n/a"}, user.max_user_namespaces=${max ?? "n/a"})`,
      fix: "sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=28633 (and on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0), or run as root",
    };
  }
}

function idMappingCheck(): DoctorCheck {
  const name = "id mapping";
  if (!isRootless()) return { name, status: "ok", detail: "not needed as root: container ids are the host's" };
  const mapping = idMapping();
  const facts = hostIdFacts();
  if (mapping.kind === "subordinate") {
    const ranges = mapping.uidMap.slice(1).map((r) => `${r.inside}-${r.inside + r.count - 1} are ${r.outside}-${r.outside + r.count - 1}`);
    return { name, status: "ok", detail: `container 0 is you (uid ${facts.uid}); ${ranges.join(", ")} from /etc/subuid (newuidmap: ${mapping.helpers!.newuidmap})` };
  }
  return { name, status: "limited", detail: "only your own id is mapped (to container root): images' files of other owners become root's, and a container user other than root fails", fix: mapping.limitation! };
}

function overlayCheck(kernel: string): DoctorCheck {
  const name = "overlay";
  const rootless = isRootless();
  const mode = config().overlay;
  const fuse = fuseOverlayfsPath();
  const fuseState = fuse === undefined ? "fuse-overlayfs is not installed" : fuseDeviceOpen() ? `fuse-overlayfs is installed at ${fuse}` : `fuse-overlayfs is installed at ${fuse}, but /dev/fuse is not open to this user`;
  const fuseFix = fuse === undefined ? FUSE_OVERLAYFS_INSTALL_FIX : FUSE_DEVICE_FIX;
  const kernelOverlay = rootless
    ? "overlayfs mounted inside the user namespace with userxattr (user.overlay xattrs: a rootless store never mixes with root's)"
    : "overlayfs mounted in each container's mount namespace (trusted.overlay xattrs)";
  let mount: OverlayMount;
  try {
    mount = overlayMount(mode, rootless);
  } catch (error) {
    return { name, status: "missing", detail: `${(error as Error).message}; every container fails to start`, fix: `${fuseFix}, or unset BENTO_OVERLAY` };
  }
  const fuseOverlay = `fuse-overlayfs (${fuse}), started by each container's init, dying with it`;
  if (mount.kind === "fuse-overlayfs") return { name, status: "ok", detail: `BENTO_OVERLAY=fuse-overlayfs: ${fuseOverlay}` };
  if (!rootless || kernelAtLeast(kernel, 5, 11)) {
    const fallback = mount.kind === "kernel-else-fuse" ? `; ${fuseState}, the fallback should the kernel refuse` : "";
    return { name, status: "ok", detail: `${mode === "kernel" ? "BENTO_OVERLAY=kernel: " : ""}${kernelOverlay}${fallback}` };
  }
  if (mount.kind === "kernel-else-fuse") return { name, status: "ok", detail: `kernel ${kernel} cannot mount overlayfs in a user namespace (5.11+ can): ${fuseOverlay}` };
  return {
    name,
    status: "missing",
    detail: `kernel ${kernel} cannot mount overlayfs in a user namespace (5.11+ can), and ${mode === "kernel" ? "BENTO_OVERLAY=kernel" : fuseState}`,
    fix: `use Linux 5.11 or newer, or ${mode === "kernel" ? "unset BENTO_OVERLAY and " : ""}${fuseFix} so bento uses fuse-overlayfs, or run as root`,
  };
}

function cgroupCheck(): DoctorCheck {
  const name = "cgroups";
  try {
    const driver = cgroupDriver();
    if (driver instanceof UndelegatedCgroupDriver) {
      return { name, status: "limited", detail: `no cgroup for containers: ${driver.reason}. Containers without limits run, and teardown does not need cgroups; containers with resources fail`, fix: DELEGATION_FIX };
    }
    return {
      name,
      status: "ok",
      detail: `cgroup ${driver.version}${isRootless() ? " in a delegated subtree" : ""}: limits, stats, OOM detection and kill-all work (container groups under ${driver
        .paths("<id>")
        .map((p) => p.replace(/\/bento-<id>$/, ""))
        .join(", ")})`,
    };
  } catch (error) {
    return { name, status: "missing", detail: (error as Error).message, fix: "mount cgroup2 on /sys/fs/cgroup (or set BENTO_CGROUP_PARENT rootless)" };
  }
}

function networkCheck(): DoctorCheck {
  const name = "network";
  const containers = "each container has its own network namespace with loopback; published ports go through bento's user-space proxy and bento networks are private bridges, with no route out (as root too)";
  const installed = egressHelpers.filter((h) => egressHelperPath(h) !== undefined);
  if (installed.length === 0) {
    return {
      name,
      status: "limited",
      detail: `${containers}; neither slirp4netns nor pasta is installed, so no container has a route out (network "slirp4netns" and "pasta" fail) and build RUN steps fail unless run with --network=host`,
      fix: `${egressInstallFix("pasta")} (or ${egressInstallFix("slirp4netns")})`,
    };
  }
  const egress = `a route out through ${installed.join(" or ")} (network: ${installed.map((h) => `"${h}"`).join(" or ")}) for containers that ask, and for build RUN steps (through ${installed[0]}), never to the host's loopback`;
  if (isRootless() && !tunDeviceOpen()) {
    return { name, status: "limited", detail: `${containers}; ${installed.join(" and ")} would give ${egress}, but need /dev/net/tun, which is not open to this user: RUN steps get only their loopback`, fix: TUN_FIX };
  }
  return { name, status: "ok", detail: `${containers}; ${egress}` };
}

function kernelCheck(kernel: string): DoctorCheck {
  if (kernelAtLeast(kernel, 5, 8)) return { name: "kernel", status: "ok", detail: `Linux ${kernel} (pidfd, clone3 and setns with a pidfd need 5.8)` };
  return { name: "kernel", status: "missing", detail: `Linux ${kernel} lacks pidfd setns and clone3 (5.8+)`, fix: "use Linux 5.8 or newer" };
}

/**
 * Checks what this machine supports for bento: root or not, user namespaces, the id mapping,
 * overlay, cgroups and their delegation, the network, the kernel; each missing piece with its fix.
 *
 * @example
 * ```ts
 * const report = await doctor();
 * for (const c of report.checks) console.log(c.status, c.name, c.detail, c.fix ?? "");
 * ```
 */
export async function doctor(): Promise<DoctorReport> {
  const kernel = release();
  const rootless = isRootless();
  const privileges: DoctorCheck = rootless
    ? { name: "privileges", status: "ok", detail: `rootless (uid ${process.geteuid?.()}): containers run in a user namespace; no setup beyond what the distribution ships` }
    : { name: "privileges", status: "ok", detail: "root: containers use the host's user namespace and cgroups directly" };
  return {
    rootless,
    kernel,
    checks: [privileges, await userNamespaceCheck(), idMappingCheck(), overlayCheck(kernel), cgroupCheck(), networkCheck(), kernelCheck(kernel)],
  };
}
