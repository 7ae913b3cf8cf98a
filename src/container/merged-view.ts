/**
 * Reads the union of image layers the way overlayfs presents it, without mounting: the top-most
 * layer that has a name wins, a 0/0 character device (an overlay whiteout) hides the name below,
 * and an opaque directory (trusted.overlay.opaque=y) hides everything below it. Used to fill a new
 * volume from the image's content at its path, as Docker does, and to copy out of a stopped
 * container.
 */
import { setOwner } from "../runtime/rootless-owner.js";
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync, type Stats } from "node:fs";
import { join } from "node:path";
import { nativeFs } from "../store/native-fs.js";

interface Entry {
  path: string;
  stat: Stats;
}

function isWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

function isOpaque(dir: string): boolean {
  try {
    return nativeFs().lgetxattr(dir, "trusted.overlay.opaque")?.toString() === "y";
  } catch {
    return false;
  }
}

/** The entry at `rel` in the merged view of `layers` (top-first), or undefined. */
export function lookupMerged(layers: readonly string[], rel: string): Entry | undefined {
  for (const layer of layers) {
    const path = join(layer, rel);
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

/** The names in directory `rel` of the merged view, each with the layer entry that wins. */
export function listMerged(layers: readonly string[], rel: string): Map<string, Entry> {
  const seen = new Map<string, Entry | null>();
  for (const layer of layers) {
    const dir = join(layer, rel);
    let names: string[];
    try {
      if (!lstatSync(dir).isDirectory()) break;
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      const stat = lstatSync(join(dir, name));
      seen.set(name, isWhiteout(stat) ? null : { path: join(dir, name), stat });
    }
    if (isOpaque(dir)) break;
  }
  const out = new Map<string, Entry>();
  for (const [name, entry] of seen) if (entry) out.set(name, entry);
  return out;
}

function copyOne(entry: Entry, dest: string): void {
  const { stat } = entry;
  if (stat.isSymbolicLink()) symlinkSync(readlinkSync(entry.path), dest);
  else if (stat.isFile()) copyFileSync(entry.path, dest);
  else if (stat.isDirectory()) mkdirSync(dest, { recursive: true });
  else return; // devices, fifos and sockets are not copied out
  setOwner(dest, stat, `copy ${entry.path}`);
  if (!stat.isSymbolicLink()) {
    chmodSync(dest, stat.mode & 0o7777); // after chown, which clears setuid bits
    if (!stat.isDirectory()) utimesSync(dest, stat.atime, stat.mtime);
  }
}

/** Copies the merged tree at `rel` into `dest` (which becomes that tree), keeping owners and modes. */
export function copyMergedTree(layers: readonly string[], rel: string, dest: string): boolean {
  const root = lookupMerged(layers, rel);
  if (!root) return false;
  const walk = (entryRel: string, entry: Entry, to: string) => {
    copyOne(entry, to);
    if (!entry.stat.isDirectory()) return;
    for (const [name, child] of listMerged(layers, entryRel)) walk(join(entryRel, name), child, join(to, name));
    utimesSync(to, entry.stat.atime, entry.stat.mtime); // after its children changed it
  };
  walk(rel, root, dest);
  return true;
}
