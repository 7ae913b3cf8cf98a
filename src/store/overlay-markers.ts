/**
 * How overlay upper directories mark deletions, for every overlay bento mounts. The kernel's
 * overlayfs: a char 0/0 device is a whiteout, and `trusted.overlay.opaque` (as root) or
 * `user.overlay.opaque` (with `userxattr`, rootless) set to `y` makes a directory opaque.
 * fuse-overlayfs 1.10 (main.c: create_whiteout, set_fd_opaque) writes char 0/0 whiteouts where
 * mknod(2) of one is allowed (as root, and in a user namespace since Linux 5.8), else an empty
 * `.wh.<name>` file; an opaque directory gets `trusted.overlay.opaque`, or rootless
 * `user.fuseoverlayfs.opaque`, and always an empty `.wh..wh..opq` file inside it. It reads all
 * of these in its lower layers, so layers in the kernel's form serve both.
 */
import { nativeFs } from "./native-fs.js";

/** The xattrs (value `y`) that mark a directory opaque. */
export const OPAQUE_XATTRS: readonly string[] = ["trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"];

/** Whether the directory `path` carries one of {@link OPAQUE_XATTRS} set to `y`. */
export function hasOpaqueXattr(path: string): boolean {
  const native = nativeFs();
  for (const name of OPAQUE_XATTRS) {
    try {
      if (native.lgetxattr(path, name)?.toString() === "y") return true;
    } catch {
      // ENOTSUP or EPERM (user.* on some file systems, trusted.* rootless): not opaque through that namespace
    }
  }
  return false;
}

/** fuse-overlayfs's own xattrs, never part of an image (its opaque marker is read as such). */
export const FUSE_OVERLAYFS_XATTR = /^user\.fuseoverlayfs\./;

/** The file fuse-overlayfs puts in an opaque directory (the OCI layer's opaque marker, too). */
export const OPAQUE_MARKER = ".wh..wh..opq";

/** The prefix of fuse-overlayfs's file whiteouts (and of OCI's). */
export const WHITEOUT_PREFIX = ".wh.";
