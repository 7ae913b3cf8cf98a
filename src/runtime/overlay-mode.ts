/**
 * Which overlay makes a container's root filesystem: the kernel's overlayfs (mounted inside the
 * container's user namespace rootless, with `userxattr`), or fuse-overlayfs, a FUSE server that
 * the container's init starts (`addon/shim/fuse-overlay.cc`). `BENTO_OVERLAY` chooses; "auto"
 * takes the kernel's, with fuse-overlayfs as the fallback rootless where the kernel refuses
 * overlayfs in a user namespace (before Linux 5.11) and fuse-overlayfs can run.
 */
import { config } from "../config.js";
import { HostUnsupportedError } from "../errors.js";
import { findExecutable } from "./executables.js";
import { deviceOpen } from "./host-devices.js";
import { isRootless } from "./user-namespace.js";

/** How the root filesystem is mounted; `program` is fuse-overlayfs's path. */
export type OverlayMount = { kind: "kernel"; fallbackFix?: string } | { kind: "fuse-overlayfs"; program: string } | { kind: "kernel-else-fuse"; program: string };

/** The fix when fuse-overlayfs is not installed. */
export const FUSE_OVERLAYFS_INSTALL_FIX = "apt-get install fuse-overlayfs (dnf install fuse-overlayfs on Fedora)";
/** The fix when /dev/fuse is not open to this user. */
export const FUSE_DEVICE_FIX = "chmod 0666 /dev/fuse, the mode distributions ship it with";

/** fuse-overlayfs's path, searched in PATH as the shell would, or undefined. */
export function fuseOverlayfsPath(): string | undefined {
  return findExecutable("fuse-overlayfs");
}

/** Whether this process may open /dev/fuse (root always may; a user where it is 0666). */
export function fuseDeviceOpen(): boolean {
  return deviceOpen("/dev/fuse");
}

/**
 * Decides the overlay of the next container from `BENTO_OVERLAY` and this host; a forced
 * fuse-overlayfs that cannot run is a {@link HostUnsupportedError} with the fix, before anything
 * is started.
 *
 * @example
 * ```ts
 * const mount = overlayMount(); // { kind: "kernel" } unless BENTO_OVERLAY says otherwise
 * ```
 */
export function overlayMount(mode = config().overlay, rootless = isRootless()): OverlayMount {
  // As root the kernel's overlayfs always mounts: it is the only one "auto" uses (and a start
  // then looks for no program).
  if (mode === "kernel" || (mode === "auto" && !rootless)) return { kind: "kernel" };
  const program = fuseOverlayfsPath();
  const fuseOpen = fuseDeviceOpen();
  if (mode === "fuse-overlayfs") {
    if (program === undefined) throw new HostUnsupportedError(`BENTO_OVERLAY=fuse-overlayfs, but fuse-overlayfs is not installed (not in PATH); install it: ${FUSE_OVERLAYFS_INSTALL_FIX}, or unset BENTO_OVERLAY`);
    if (!fuseOpen) throw new HostUnsupportedError(`BENTO_OVERLAY=fuse-overlayfs, but /dev/fuse cannot be opened by this user; ${FUSE_DEVICE_FIX}, or unset BENTO_OVERLAY`);
    return { kind: "fuse-overlayfs", program };
  }
  if (program !== undefined && fuseOpen) return { kind: "kernel-else-fuse", program };
  const missing = [program === undefined ? `install fuse-overlayfs (${FUSE_OVERLAYFS_INSTALL_FIX})` : "", fuseOpen ? "" : FUSE_DEVICE_FIX].filter(Boolean).join(" and ");
  return { kind: "kernel", fallbackFix: `where the kernel refuses overlayfs in a user namespace (before Linux 5.11): use Linux 5.11 or newer, or ${missing} so bento falls back to it` };
}
