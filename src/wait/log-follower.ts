/**
 * Follows a container's log file without keeping Node alive: wait strategies and `onLog`
 * consumers read in the background, and a running container alone must not keep the process
 * alive (src/runtime/teardown.ts). The instance's `followLogs()` is for callers who iterate and
 * so want Node kept alive; this follower also stops at once when its signal aborts.
 */
import { watch, type FSWatcher } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { parseLogRecords, type LogLine } from "../runtime/logs.js";

/** Options of {@link followLogFile}. */
export interface FollowLogOptions {
  /** Stops following (without an error) when it aborts. */
  signal?: AbortSignal;
  /** True once no more lines will be written; the follower then reads to the end and ends. */
  finished: () => boolean;
  /** How often to look when no change was notified (default 100 ms). */
  pollMs?: number;
}

/**
 * Yields the lines of a container log file from its first one, as they are written, until
 * `finished()` is true and everything was read, the file is deleted, or the signal aborts.
 *
 * @example
 * ```ts
 * for await (const line of followLogFile(instance.spec.logFile, { finished: () => instance.status !== "running" })) console.log(line.text);
 * ```
 */
export async function* followLogFile(file: string, options: FollowLogOptions): AsyncGenerator<LogLine> {
  const { signal, finished, pollMs = 100 } = options;
  let handle: FileHandle | undefined;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  // Set by every change notice, cleared before each read: a notice that arrives while a read is
  // in flight (no one asleep to wake) must not be lost, or the line it announced waits a poll.
  let changed = false;
  const notify = () => {
    changed = true;
    wake?.();
  };
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    let offset = 0;
    let pending = "";
    const decoder = new StringDecoder("utf8");
    const buffer = Buffer.alloc(65536);
    while (!signal?.aborted) {
      const wasFinished = finished();
      if (handle === undefined) {
        try {
          handle = await open(file, "r");
          watcher = watch(file, { persistent: false }, notify);
          watcher.on("error", () => undefined);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT" || wasFinished) return;
        }
      }
      if (handle !== undefined) {
        let bytesRead: number;
        changed = false;
        try {
          ({ bytesRead } = await handle.read({ buffer, position: offset }));
        } catch {
          return; // the container was removed under us
        }
        if (bytesRead > 0) {
          offset += bytesRead;
          const { lines, rest } = parseLogRecords(pending + decoder.write(buffer.subarray(0, bytesRead)));
          pending = rest;
          for (const line of lines) {
            if (signal?.aborted) return;
            yield line;
          }
          continue;
        }
      }
      if (wasFinished) return;
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    watcher?.close();
    await handle?.close();
  }
}
