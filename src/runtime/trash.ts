/**
 * Deleting a container's directory costs milliseconds of filesystem work (an overlay upper dir,
 * a work dir, logs). remove() instead renames it into the store's trash, which is instant, and
 * deletes it in the background; the exit hook finishes what is pending, and any process's first
 * start empties what a dead process left there.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { nativeFs } from "../store/native-fs.js";
import { onExitSweep } from "./teardown.js";
import { isRootless, removeAsNamespaceRoot } from "./user-namespace.js";

const pending = new Set<string>();
let hooked = false;

function trashDir(home: string): string {
  return join(home, "trash");
}

/** Moves `dir` out of sight at once and deletes it in the background. */
export function discard(home: string, dir: string, name: string): void {
  const trash = trashDir(home);
  mkdirSync(trash, { recursive: true, mode: 0o700 });
  const target = join(trash, `${name}-${process.pid}-${Date.now()}`);
  try {
    renameSync(dir, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    rmSync(dir, { recursive: true, force: true }); // another filesystem, say: delete in place
    return;
  }
  if (!hooked) {
    hooked = true;
    onExitSweep(() => {
      for (const p of pending) {
        try {
          rmSync(p, { recursive: true, force: true });
        } catch {
          // rootless: files of container users stay for the next process's emptyTrash
        }
      }
    });
  }
  pending.add(target);
  void removeInBackground(target);
}

/**
 * Deletes `dir` now; rootless, where container users' files (subordinate ids) may refuse this
 * user, what is left goes to the trash and is deleted from inside the user namespace.
 */
export function removeTreeSync(home: string, dir: string, name: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    if (!isRootless() || !isPermissionError(error)) throw error;
    discard(home, dir, name);
  }
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  // Node's recursive rm retries an unlink refused with EPERM as rmdir, which then reports
  // ENOTDIR for the file (a socket a container user left in a directory of theirs, say).
  return code === "EACCES" || code === "EPERM" || code === "ENOTDIR";
}

async function removeInBackground(target: string): Promise<void> {
  try {
    // One thread-pool job for the whole tree; fs.rm takes a round trip through the event loop
    // per entry, which a start running meanwhile pays for. On any failure fs.rm goes the same
    // way it did before, and reports what it cannot delete.
    await nativeFs()
      .removeTree(target)
      .catch(() => rm(target, { recursive: true, force: true }));
  } catch (error) {
    if (isRootless() && isPermissionError(error)) await removeAsNamespaceRoot([target]).catch(() => undefined);
  } finally {
    pending.delete(target);
  }
}

/** Deletes everything in the trash (what dead processes left). */
export function emptyTrash(home: string): void {
  let entries: string[];
  try {
    entries = readdirSync(trashDir(home));
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(trashDir(home), entry);
    if (pending.has(path)) continue;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch (error) {
      if (!isRootless() || !isPermissionError(error)) throw error;
      pending.add(path);
      void removeInBackground(path);
    }
  }
}
