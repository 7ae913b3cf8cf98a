/**
 * `onLog` consumers: a container's output delivered line by line as it is written.
 */
import { debug } from "../debug.js";
import type { LogLine } from "../runtime/logs.js";
import { followLogFile } from "./log-follower.js";

/**
 * Receives a container's output line by line: one function for both streams, or one per stream.
 *
 * @example
 * ```ts
 * const onLog: LogConsumer = { stderr: (line) => process.stderr.write(`[db] ${line.text}`) };
 * ```
 */
export type LogConsumer =
  | ((line: LogLine) => void)
  | {
      /** Receives the stdout lines. */
      stdout?: (line: LogLine) => void;
      /** Receives the stderr lines. */
      stderr?: (line: LogLine) => void;
    };

/** What {@link consumeLogs} needs of a container. */
export interface LogSource {
  /** The container's name, for debug output. */
  readonly name: string;
  /** Following ends once it is "removed". */
  readonly status: string;
  /** Where its log file is. */
  readonly spec: {
    /** The shim's log file (one record per line). */
    readonly logFile: string;
  };
}

/**
 * Delivers every line the container writes, from its first, until it is removed (across restarts).
 * Does not keep Node alive. A consumer that throws is reported under `BENTO_DEBUG=runtime` and
 * keeps receiving lines.
 *
 * @example
 * ```ts
 * consumeLogs(instance, (line) => console.log(line.stream, line.text));
 * ```
 */
export function consumeLogs(source: LogSource, consumer: LogConsumer): void {
  const deliver = typeof consumer === "function" ? consumer : (line: LogLine) => consumer[line.stream]?.(line);
  void (async () => {
    for await (const line of followLogFile(source.spec.logFile, { finished: () => source.status === "removed" })) {
      try {
        deliver(line);
      } catch (error) {
        debug("runtime", `${source.name}: the onLog consumer threw: ${(error as Error).message}`);
      }
    }
  })();
}

/**
 * Checks an `onLog` option: a function, or an object of per-stream functions.
 *
 * @example
 * ```ts
 * isLogConsumer({ stdout: console.log }); // true
 * ```
 */
export function isLogConsumer(value: unknown): value is LogConsumer {
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null) return false;
  const { stdout, stderr } = value as Record<string, unknown>;
  return (stdout === undefined || typeof stdout === "function") && (stderr === undefined || typeof stderr === "function") && Object.keys(value).every((k) => k === "stdout" || k === "stderr");
}
