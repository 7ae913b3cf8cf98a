/**
 * The store's lock: flock(2) on `<root>/lock`, taken around every change to refs and index.json.
 *
 * Why flock rather than an O_EXCL lock file: the kernel drops a flock when its holder dies, so
 * there is no stale-owner detection to get wrong (a lock file left by a SIGKILLed test runner
 * would need pid + start-time checks, and breaking it races with a second waiter). Node's fs has
 * no flock, so it comes from the addon (addon/lock.cc). The lock is asked for with LOCK_NB and
 * polled: a blocking flock would stall the event loop, and holding a libuv pool thread while
 * waiting would starve fs work (STYLE.md section 2). Critical sections are a few small file
 * writes, so polling every few milliseconds costs little.
 */
import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StoreLockTimeoutError } from "./errors.js";
import { nativeFs, systemError } from "./native-fs.js";

/** Options for {@link withLock}. */
export interface LockOptions {
  /** Give up after this long. */
  timeoutMs: number;
}

/**
 * Runs `fn` while holding an exclusive flock on `lockPath` (created if missing). flock locks
 * belong to an open file description, so two holders in one process exclude each other too;
 * do not nest calls on the same path.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
  const native = nativeFs();
  const deadline = Date.now() + options.timeoutMs;
  let delayMs = 1;
  for (;;) {
    const handle = await fs.open(lockPath, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      let acquired: boolean;
      try {
        acquired = native.flock(handle.fd, "exclusive", false);
      } catch (e) {
        throw systemError(`lock the store`, e);
      }
      // A sweep (removeFreeLocks) may have unlinked the file after we opened it: the lock on
      // that unlinked inode excludes no one who opens the path now, so open it again.
      if (acquired && (await isStillAt(handle, lockPath))) return await fn();
      if (!acquired && Date.now() >= deadline) throw new StoreLockTimeoutError(lockPath, options.timeoutMs);
    } finally {
      // Closing the only fd of the open file description releases the lock.
      await handle.close();
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 25);
  }
}

async function isStillAt(handle: FileHandle, path: string): Promise<boolean> {
  const held = await handle.stat();
  const now = await fs.stat(path).catch(() => undefined);
  return now !== undefined && now.ino === held.ino && now.dev === held.dev;
}

/**
 * Removes the lock files in `dir` that no process holds (a build's lock files stay after it, one
 * per step it built); one in use is kept. Each is unlinked while holding its lock, and
 * {@link withLock} checks after locking that its file is still the one at the path, so a
 * process that opened a file just before it was removed locks again rather than share the lock.
 * Returns how many it removed.
 */
export async function removeFreeLocks(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    let handle: FileHandle;
    try {
      handle = await fs.open(path, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch {
      continue; // gone already, or not a lock file
    }
    try {
      if (!nativeFs().flock(handle.fd, "exclusive", false) || !(await isStillAt(handle, path))) continue;
      await fs.unlink(path);
      removed++;
    } finally {
      await handle.close();
    }
  }
  return removed;
}

/** Where builds keep their per-step lock files (`<store>/build-locks/<cache key>`). */
export function buildLocksDir(storeRoot: string): string {
  return join(storeRoot, "build-locks");
}
