/**
 * The ops that mount a container's root filesystem: the kernel's overlayfs, fuse-overlayfs, or
 * the kernel's with fuse-overlayfs where the kernel refuses (see runtime/overlay-mode.ts).
 */
import { dirname, join, relative } from "node:path";
import { kernelAtLeast } from "./kernel-version.js";
import type { OverlayMount } from "./overlay-mode.js";

const MS_NODEV = 4;
// errno values with which overlayfs refuses a user namespace's mount (before Linux 5.11 it is not
// FS_USERNS_MOUNT: EPERM; EINVAL for userxattr it does not know; ENODEV without overlay at all).
const KERNEL_REFUSALS = [1, 22, 19];

/** Escapes a path for overlay's lowerdir list (":" and "\" are separators there). */
export function escapeOverlayPath(path: string): string {
  return path.replace(/\\/g, "\\\\").replace(/:/g, "\\:").replace(/,/g, "\\,");
}

function commonParent(dirs: readonly string[]): string | undefined {
  if (dirs.length === 0) return undefined;
  let parent = dirname(dirs[0]!);
  while (!dirs.every((d) => d.startsWith(parent + "/"))) {
    if (parent === "/") return undefined;
    parent = dirname(parent);
  }
  return parent;
}

/** Adds the ops that mount the overlay of `lowerDirs` (top first) on `<containerDir>/merged`. */
export function addRootfsOps(b: { op(description: string, ...record: string[]): void }, lowerDirs: string[], containerDir: string, userns: boolean, overlay: OverlayMount = { kind: "kernel" }, procsFiles: readonly string[] = []): void {
  const merged = join(containerDir, "merged"),
    upper = join(containerDir, "upper"),
    work = join(containerDir, "work");
  const what = `the root filesystem (overlay of ${lowerDirs.length} layers) on ${merged}`;
  if (overlay.kind !== "fuse-overlayfs") {
    // The fallback option string (kernels without fsconfig "lowerdir+") uses paths relative to
    // the layers' common parent when absolute ones would overflow mount(2)'s one-page data.
    let fallbackLowers = lowerDirs;
    const parent = commonParent(fallbackLowers);
    if (fallbackLowers.join(":").length > 3000 && parent !== undefined) {
      b.op(`enter the layers' directory ${parent}`, "chdir", parent);
      fallbackLowers = fallbackLowers.map((d) => relative(parent, d));
    }
    // In a user namespace overlay keeps its own attributes in user.overlay.* (kernel 5.11+).
    // "volatile" (5.10+) leaves out every sync of the upper dir, as podman does for --rm
    // containers and buildah and CRI-O for all of theirs: a container's writes need not survive
    // a crash of the machine, which ends the container anyway. Without it each copy-up syncs
    // the copied file: a 16 MB file took 27 ms to open for writing, against 12 ms (PostgreSQL
    // opens its WAL segment so at every start). The shim clears the mark it leaves
    // (ClearVolatileMark) before the dirs are mounted again.
    const overlayFlags = [...(userns ? ["userxattr"] : []), ...(kernelAtLeast(5, 10) ? ["volatile"] : [])].join(",");
    const data = `lowerdir=${fallbackLowers.map(escapeOverlayPath).join(":")},upperdir=${escapeOverlayPath(upper)},workdir=${escapeOverlayPath(work)}${overlayFlags ? `,${overlayFlags}` : ""}`;
    const args = [merged, String(MS_NODEV), data, upper, work, overlayFlags, ...lowerDirs];
    if (overlay.kind === "kernel") b.op(`mount ${what}${overlay.fallbackFix ? ` (${overlay.fallbackFix})` : ""}`, "mount-overlay", ...args);
    else b.op(`mount ${what}, or note that the kernel refuses it`, "try-mount-overlay", KERNEL_REFUSALS.join(","), ...args);
    if (overlay.kind === "kernel") return;
  }
  // fuse-overlayfs splits lowerdir at ":" and libfuse its options at ","; store paths hold
  // neither (hex digests under BENTO_HOME), and a BENTO_HOME that does is refused here.
  for (const dir of [...lowerDirs, upper, work]) {
    if (/[:,]/.test(dir)) throw new Error(`fuse-overlayfs cannot take the path "${dir}" (it contains ":" or ","); set BENTO_HOME to a path without them`);
  }
  // The kernel's FUSE mount options: the server's root is a directory (rootmode), the mount's
  // owner is the namespace's root, and every user of the container may use it with the kernel
  // checking permissions (allow_other, default_permissions), as fuse-overlayfs asks for as root.
  const options = "rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
  // -f: the server stays the child init started (no daemon fork), so init's death signal reaches it.
  // writeback=0: a write reaches the upper dir before write(2) returns, as with the kernel's
  // overlay; with FUSE's writeback cache, data still cached when the container is killed
  // (stop's SIGKILL, a SIGKILLed runner) would be lost with the server.
  const argv = [overlay.program, "-f", "-o", `lowerdir=${lowerDirs.join(":")},upperdir=${upper},workdir=${work},writeback=0`, "/dev/fd/"];
  // The server is forked while the shim still moves init into the v1 cgroups (procsFiles): it
  // joins them itself, so the container's limits and stats count it as they count init.
  b.op(`mount ${what} through ${overlay.program}`, "mount-fuse-overlay", overlay.kind === "fuse-overlayfs" ? "always" : "if-kernel-refused", merged, String(MS_NODEV), options, procsFiles.join("\n"), ...argv);
}
