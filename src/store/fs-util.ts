/**
 * Small file-system helpers for a store shared by many processes: temp names that record their
 * owner, write-then-rename, and the sweep of temp files whose owner died.
 */
import { chmodSync, constants, lstatSync, promises as fs, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cryptoModule } from "../deps.js";
import { isErrno } from "./native-fs.js";
import { removeTreesOfOthers } from "./layer-owners.js";

/**
 * A unique temp name `<prefix><pid>-<random>`. The pid lets a later sweep tell a live writer's
 * temp file from one left by a process that died (see {@link sweepTemps}).
 */
export function tempName(prefix = ""): string {
  return `${prefix}${process.pid}-${cryptoModule().randomBytes(8).toString("hex")}`;
}

/** The pid a {@link tempName} records, or undefined for names it did not make. */
function tempOwner(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-[0-9a-f]{16}/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temp entries under `dir` (named by {@link tempName} with `prefix`) whose owner
 * process no longer exists. A recycled pid only delays the cleanup until that process exits.
 */
export async function sweepTemps(dir: string, prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = tempOwner(name, prefix);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    await fs.rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Writes `data` to `path` so that readers see the old content or the new, never a part: write a
 * temp file in `tmpDir` (same file system), fsync it, then rename(2) over `path` (crun's
 * `status.c` does the same for container state).
 */
export async function writeFileAtomic(path: string, data: Buffer | string, tmpDir: string): Promise<void> {
  await commitAtomically(join(tmpDir, tempName()), path, async (tmp) => {
    const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  });
}

/**
 * The write-fsync-rename sequence of {@link writeFileAtomic} for any writer: `write` creates
 * `tmp`; it is then fsynced and renamed over `path`, or removed if anything failed.
 */
export async function commitAtomically(tmp: string, path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  try {
    await write(tmp);
    const handle = await fs.open(tmp, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** lstat, or undefined when the path does not exist. */
export async function lstatIfExists(path: string): Promise<import("node:fs").Stats | undefined> {
  try {
    return await fs.lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * Deletes a tree, also one with read-only directories: root ignores their modes, a rootless
 * user must first make the directories it owns writable (an image's `/proc` is 0555, say).
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await fs.rm(path, { recursive: true, force: true });
  } catch (e) {
    if (!isErrno(e, "EACCES", "EPERM")) throw e;
    try {
      makeOwnDirsWritable(path);
      await fs.rm(path, { recursive: true, force: true });
    } catch (again) {
      // Rootless, a layer unpacked with its owners holds files of subordinate ids.
      if (!isErrno(again, "EACCES", "EPERM") || !(await removeTreesOfOthers([path]))) throw again;
    }
  }
}

/** {@link removeTree}, synchronously. */
export function removeTreeSync(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    if (!isErrno(e, "EACCES", "EPERM")) throw e;
    makeOwnDirsWritable(path);
    rmSync(path, { recursive: true, force: true });
  }
}

function makeOwnDirsWritable(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  if (st.uid === process.geteuid?.() && (st.mode & 0o700) !== 0o700) chmodSync(path, (st.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path)) makeOwnDirsWritable(join(path, name));
}
