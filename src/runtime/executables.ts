/**
 * Finding the programs bento runs (newuidmap, the egress helpers, fuse-overlayfs) as a shell
 * would: the first executable of that name in a search path.
 */
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/**
 * The path of the executable `name` in the first directory of `searchPath` (colon-separated,
 * default PATH) that has one, or undefined. Relative entries are skipped: what bento runs must
 * not depend on its working directory.
 *
 * @example
 * ```ts
 * findExecutable("pasta"); // "/usr/bin/pasta" where passt is installed
 * ```
 */
export function findExecutable(name: string, searchPath = process.env.PATH ?? "/usr/bin:/bin"): string | undefined {
  for (const dir of searchPath.split(":")) {
    if (!dir.startsWith("/")) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
