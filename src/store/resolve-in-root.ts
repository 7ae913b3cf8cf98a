/**
 * Path resolution inside a root filesystem that is not mounted: every symlink is followed as the
 * kernel would with the root as `/` (an absolute target starts again at the root, `..` stops
 * there), as Docker's FollowSymlinkInScope and openat2 RESOLVE_IN_ROOT do. The one walk behind
 * the merged view of a container's layers, the build's layered view and a build step's layer.
 */

/** How many symlinks one resolution follows before it gives up (the kernel's limit). */
export const MAX_SYMLINK_HOPS = 40;

/** The names of `path`, without empty ones and `.`. */
export function pathNames(path: string): string[] {
  return path.split("/").filter((n) => n !== "" && n !== ".");
}

/**
 * `path` resolved inside the root, relative to it and without a leading `/`. `linkAt(rel)` gives
 * the target of the symlink at `rel` (already resolved up to its last name), or undefined when
 * there is none there. With `followLast` false the last name is kept as it is. Throws
 * `tooMany()` past {@link MAX_SYMLINK_HOPS} links.
 *
 * @example
 * ```ts
 * resolveInRoot("/etc/passwd", true, (rel) => (rel === "etc" ? "/host-etc" : undefined), () => new Error("loop")); // "host-etc/passwd"
 * ```
 */
export function resolveInRoot(path: string, followLast: boolean, linkAt: (rel: string) => string | undefined, tooMany: () => Error): string {
  const pending = pathNames(path);
  const out: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === "..") {
      out.pop();
      continue;
    }
    if (pending.length === 0 && !followLast) {
      out.push(name);
      break;
    }
    const target = linkAt([...out, name].join("/"));
    if (target === undefined) {
      out.push(name);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw tooMany();
    if (target.startsWith("/")) out.length = 0;
    pending.unshift(...pathNames(target));
  }
  return out.join("/");
}
