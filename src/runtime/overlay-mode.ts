/**
 * Which overlay makes a container's root filesystem: the kernel's overlayfs (mounted inside the
 * container's user namespace rootless, with `userxattr`), or fuse-overlayfs, a FUSE server that
 * the container's init starts (`addon/shim/fuse-overlay.cc`). `BENTO_OVERLAY` chooses; "auto"
 * takes the kernel's, with fuse-overlayfs as the fallback rootless where the kernel refuses
 * overlayfs in a user namespace (before Linux 5.11) and fuse-overlayfs can run.
 */
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { config } from "../config.js";
import { HostUnsupportedError } from "../errors.js";
import { isRootless } from "./user-namespace.js";

/** How the root filesystem is mounted; `program` is fuse-overlayfs's path. */
export type OverlayMount = { kind: "kernel"; fallbackFix?: string } | { kind: "fuse-overlayfs"; program: string } | { kind: "kernel-else-fuse"; program: string };

/** The fix when fuse-overlayfs is not installed. */
export const FUSE_OVERLAYFS_INSTALL_FIX = "apt-get install fuse-overlayfs (dnf install fuse-overlayfs on Fedora)";
/** The fix when /dev/fuse is not open to this user. */
export const FUSE_DEVICE_FIX = "chmod 0666 /dev/fuse, the mode distributions ship it with";

/** fuse-overlayfs's path, searched in PATH as the shell would, or undefined. */
export function fuseOverlayfsPath(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(":").filter((d) => d.startsWith("/"))) {
    try {
      accessSync(join(dir, "fuse-overlayfs"), constants.X_OK);
      return join(dir, "fuse-overlayfs");
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Whether this process may open /dev/fuse (root always may; a user where it is 0666). */
export function fuseDeviceOpen(): boolean {
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
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
  if (mode === "kernel") return { kind: "kernel" };
  const program = fuseOverlayfsPath();
  const deviceOpen = fuseDeviceOpen();
  if (mode === "fuse-overlayfs") {
    if (program === undefined) throw new HostUnsupportedError(`BENTO_OVERLAY=fuse-overlayfs, but fuse-overlayfs is not installed (not in PATH); install it: ${FUSE_OVERLAYFS_INSTALL_FIX}, or unset BENTO_OVERLAY`);
    if (!deviceOpen) throw new HostUnsupportedError(`BENTO_OVERLAY=fuse-overlayfs, but /dev/fuse cannot be opened by this user; ${FUSE_DEVICE_FIX}, or unset BENTO_OVERLAY`);
    return { kind: "fuse-overlayfs", program };
  }
  // As root the kernel's overlayfs always mounts: it is the only one "auto" uses.
  if (!rootless) return { kind: "kernel" };
  if (program !== undefined && deviceOpen) return { kind: "kernel-else-fuse", program };
  const missing = [program === undefined ? `install fuse-overlayfs (${FUSE_OVERLAYFS_INSTALL_FIX})` : "", deviceOpen ? "" : FUSE_DEVICE_FIX].filter(Boolean).join(" and ");
  return { kind: "kernel", fallbackFix: `where the kernel refuses overlayfs in a user namespace (before Linux 5.11): use Linux 5.11 or newer, or ${missing} so bento falls back to it` };
}
