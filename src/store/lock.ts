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
  const handle = await fs.open(lockPath, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    const native = nativeFs();
    const deadline = Date.now() + options.timeoutMs;
    let delayMs = 1;
    for (;;) {
      let acquired: boolean;
      try {
        acquired = native.flock(handle.fd, "exclusive", false);
      } catch (e) {
        throw systemError(`lock the store`, e);
      }
      if (acquired) break;
      if (Date.now() >= deadline) throw new StoreLockTimeoutError(lockPath, options.timeoutMs);
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 25);
    }
    return await fn();
  } finally {
    // Closing the only fd of the open file description releases the lock.
    await handle.close();
  }
}
