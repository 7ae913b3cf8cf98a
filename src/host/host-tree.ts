/**
 * Lays host files out in a root filesystem at the same paths, symlinks included: each path is
 * walked component by component as the kernel resolves it (path_resolution(7)), and every
 * symlink met on the way (`/lib64 -> usr/lib64` on a merged-/usr host, `sh -> dash`) is
 * recreated, so a path that works on the host works the same way in the image.
 */
import { copyFileSync, chmodSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import type { BigIntStats } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError } from "../errors.js";

/** One entry of the tree, by its absolute path in the image. */
export type HostTreeEntry =
  | { type: "dir"; path: string; mode: number }
  | { type: "symlink"; path: string; target: string; source: BigIntStats }
  | { type: "file"; path: string; mode: number; from: string; source: BigIntStats }
  /** A file bento writes (`content`), or an empty directory when `content` is undefined. */
  | { type: "generated"; path: string; mode: number; content: string | undefined };

/** Follows the kernel's limit on symlinks in one resolution (40, path_resolution(7)). */
const MAX_SYMLINKS = 40;

/**
 * The tree that holds `files` at their host paths, plus `generated` files; sorted by path.
 *
 * @example
 * ```ts
 * hostTree(["/usr/bin/sh"], []).map((e) => `${e.type} ${e.path}`);
 * // ["dir /usr", "dir /usr/bin", "file /usr/bin/dash", "symlink /usr/bin/sh"]
 * ```
 */
export function hostTree(files: readonly string[], generated: ReadonlyArray<{ path: string; mode: number; content: string | undefined }>): HostTreeEntry[] {
  const entries = new Map<string, HostTreeEntry>();
  for (const file of files) addPath(entries, file);
  for (const g of generated) {
    const parts = g.path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join("/")}`;
      if (!entries.has(dir)) entries.set(dir, { type: "dir", path: dir, mode: 0o755 });
    }
    entries.set(g.path, { type: "generated", ...g });
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function addPath(entries: Map<string, HostTreeEntry>, file: string): void {
  const remaining = file.split("/").filter(Boolean);
  let current = "";
  let links = 0;
  while (remaining.length > 0) {
    const name = remaining.shift() as string;
    if (name === ".") continue;
    if (name === "..") {
      current = current.slice(0, Math.max(0, current.lastIndexOf("/")));
      continue;
    }
    const path = `${current}/${name}`;
    const st = lstatSync(path, { bigint: true });
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new InvalidOptionError("fromHost", `"${file}": too many levels of symbolic links`);
      const target = readlinkSync(path);
      entries.set(path, { type: "symlink", path, target, source: st });
      remaining.unshift(...target.split("/").filter(Boolean));
      if (target.startsWith("/")) current = "";
      continue;
    }
    if (st.isDirectory()) {
      if (!entries.has(path)) entries.set(path, { type: "dir", path, mode: Number(st.mode) & 0o7777 });
      current = path;
      continue;
    }
    if (!st.isFile() || remaining.length > 0) throw new InvalidOptionError("fromHost", `"${file}": "${path}" is not a regular file or directory`);
    entries.set(path, { type: "file", path, mode: Number(st.mode) & 0o7777, from: path, source: st });
  }
}

/**
 * Writes the tree under `dir`. Every time is set (file times from the host file, the rest to
 * the epoch), so the same tree always gives the same layer.
 *
 * @example
 * ```ts
 * writeHostTree(hostTree(["/usr/bin/sh"], []), "/tmp/stage");
 * ```
 */
export function writeHostTree(entries: readonly HostTreeEntry[], dir: string): void {
  const dirs: Array<{ at: string; mode: number }> = [];
  for (const e of entries) {
    const at = join(dir, e.path);
    switch (e.type) {
      case "dir":
        mkdirSync(at, { recursive: true });
        dirs.push({ at, mode: e.mode });
        break;
      case "symlink":
        symlinkSync(e.target, at);
        lutimesSync(at, 0, 0);
        break;
      case "file":
        copyFileSync(e.from, at);
        chmodSync(at, e.mode);
        utimesSync(at, new Date(Number(e.source.mtimeMs)), new Date(Number(e.source.mtimeMs)));
        break;
      case "generated":
        if (e.content === undefined) {
          mkdirSync(at, { recursive: true });
          dirs.push({ at, mode: e.mode });
        } else {
          writeFileSync(at, e.content);
          chmodSync(at, e.mode);
          utimesSync(at, 0, 0);
        }
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown tree entry ${JSON.stringify(never)}`);
      }
    }
  }
  // Children change their directory's time, so directories are set last, deepest first.
  for (const { at, mode } of dirs.reverse()) {
    chmodSync(at, mode);
    utimesSync(at, 0, 0);
  }
}
