/**
 * Reads the union of image layers the way overlayfs presents it, without mounting: the top-most
 * layer that has a name wins, a 0/0 character device (an overlay whiteout) hides the name below,
 * and an opaque directory (trusted.overlay.opaque=y, rootless user.overlay.opaque=y) hides everything below it. Used to fill a new
 * volume from the image's content at its path, as Docker does, and to copy out of a stopped
 * container.
 */
import { resolveInRoot } from "../store/resolve-in-root.js";
import { containerOwnerOf, type OwnerChanges } from "../runtime/rootless-owner.js";
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync, type Stats } from "node:fs";
import { join } from "node:path";
import { nativeFs } from "../store/native-fs.js";
import { isRootless } from "../runtime/user-namespace.js";

interface Entry {
  path: string;
  stat: Stats;
}

function isWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

// Rootless, overlay is mounted with userxattr: upper dirs and the store's layers mark opaque
// directories with the user namespace's xattr.
const OPAQUE_XATTR = isRootless() ? "user.overlay.opaque" : "trusted.overlay.opaque";

function isOpaque(dir: string): boolean {
  try {
    return nativeFs().lgetxattr(dir, OPAQUE_XATTR)?.toString() === "y";
  } catch {
    return false;
  }
}

/** The names of a path inside the root; `..` is refused (resolve the path first). */
function namesOf(rel: string): string[] {
  const names = rel.split("/").filter((n) => n !== "" && n !== ".");
  if (names.includes("..")) throw new Error(`merged view: "${rel}" is not resolved; call resolveMerged() first`);
  return names;
}

/**
 * The layers (indexes, top-first) through which directory `names` shows, checking each name in
 * each layer with lstat: a layer whose copy of a parent is a symlink (or any non-directory) ends
 * the walk, so no host path is ever reached through a symlink an image or a container made.
 */
function visibleLayers(layers: readonly string[], names: readonly string[]): number[] | undefined {
  let visible = layers.map((_, i) => i);
  for (let depth = 1; depth <= names.length; depth++) {
    const rel = names.slice(0, depth).join("/");
    const next: number[] = [];
    for (const index of visible) {
      let stat: Stats;
      try {
        stat = lstatSync(join(layers[index]!, rel));
      } catch {
        continue;
      }
      if (!stat.isDirectory()) {
        if (next.length === 0) return undefined; // the name is not a directory in the view
        break;
      }
      next.push(index);
      if (isOpaque(join(layers[index]!, rel))) break;
    }
    if (next.length === 0) return undefined;
    visible = next;
  }
  return visible;
}

/** The entry at `rel` in the merged view of `layers` (top-first), or undefined; symlinks not followed. */
export function lookupMerged(layers: readonly string[], rel: string): Entry | undefined {
  const names = namesOf(rel);
  const parents = visibleLayers(layers, names.slice(0, -1));
  if (parents === undefined) return undefined;
  for (const index of parents) {
    const path = join(layers[index]!, ...names);
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    return isWhiteout(stat) ? undefined : { path, stat };
  }
  return undefined;
}

/**
 * `path` with every symlink resolved inside the merged view, as the container itself would see
 * it: an absolute target starts again at the root, and `..` stops at the root (Docker's
 * FollowSymlinkInScope; the shim resolves mount targets the same way with openat2
 * RESOLVE_IN_ROOT). With `followLast` false the last name is kept. Returns a path relative to the
 * root. Every host-side read or write of a path inside an image, a stopped container or a volume
 * goes through this and {@link lookupMerged}.
 */
export function resolveMerged(layers: readonly string[], path: string, followLast: boolean): string {
  return resolveInRoot(
    path,
    followLast,
    (candidate) => {
      const entry = lookupMerged(layers, candidate);
      return entry?.stat.isSymbolicLink() ? readlinkSync(entry.path) : undefined;
    },
    () => new Error(`too many levels of symbolic links resolving "${path}"`),
  );
}

/** The names in directory `rel` of the merged view, each with the layer entry that wins. */
export function listMerged(layers: readonly string[], rel: string): Map<string, Entry> {
  const names = namesOf(rel);
  const seen = new Map<string, Entry | null>();
  for (const index of visibleLayers(layers, names) ?? []) {
    const dir = join(layers[index]!, ...names);
    for (const name of readdirSync(dir)) {
      if (seen.has(name)) continue;
      const stat = lstatSync(join(dir, name));
      seen.set(name, isWhiteout(stat) ? null : { path: join(dir, name), stat });
    }
  }
  const out = new Map<string, Entry>();
  for (const [name, entry] of seen) if (entry) out.set(name, entry);
  return out;
}

function copyOne(entry: Entry, dest: string, owners: OwnerChanges | undefined): void {
  const { stat } = entry;
  if (stat.isSymbolicLink()) symlinkSync(readlinkSync(entry.path), dest);
  else if (stat.isFile()) copyFileSync(entry.path, dest);
  else if (stat.isDirectory()) mkdirSync(dest, { recursive: true });
  else return; // devices, fifos and sockets are not copied out
  owners?.set(dest, containerOwnerOf(stat), `copy ${entry.path}`);
  if (!stat.isSymbolicLink()) {
    chmodSync(dest, stat.mode & 0o7777); // after chown, which clears setuid bits
    if (!stat.isDirectory()) utimesSync(dest, stat.atime, stat.mtime);
  }
}

/**
 * Copies the merged tree at `rel` into `dest` (which becomes that tree), keeping modes, and
 * owners through `owners` (the caller applies them); without it the copies are the user's.
 */
export function copyMergedTree(layers: readonly string[], rel: string, dest: string, owners: OwnerChanges | undefined): boolean {
  const root = lookupMerged(layers, rel);
  if (!root) return false;
  const walk = (entryRel: string, entry: Entry, to: string) => {
    copyOne(entry, to, owners);
    if (!entry.stat.isDirectory()) return;
    for (const [name, child] of listMerged(layers, entryRel)) walk(join(entryRel, name), child, join(to, name));
    utimesSync(to, entry.stat.atime, entry.stat.mtime); // after its children changed it
  };
  walk(rel, root, dest);
  return true;
}
