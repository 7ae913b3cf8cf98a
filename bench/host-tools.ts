/**
 * Finding the comparison tools on this host. Absolute paths are needed because floor.c's spawn
 * mode uses posix_spawn, which does not search PATH.
 */
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/** The absolute path of `name` in PATH (plus the sbin directories), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The apt package that provides each tool, for "not installed" rows. */
export const aptPackage: Record<string, string> = {
  crun: "crun",
  bwrap: "bubblewrap",
  unshare: "util-linux",
  chroot: "coreutils",
};
