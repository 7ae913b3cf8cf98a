/**
 * The contract between a container start and a wait strategy (testcontainers'
 * `wait-strategies/wait-strategy.ts` plays the same part): the strategy sees the container through
 * a {@link WaitContext} and resolves once the container is ready.
 */
import type { ExitStatus } from "../runtime/wait-status.js";
import type { LogLine } from "../runtime/logs.js";
import type { HealthState } from "../health-state.js";

/** What an exec in the container returned. */
export interface WaitExecResult {
  /** The command's exit code. */
  exitCode: number;
  /** What it wrote to stdout. */
  stdout: string;
  /** What it wrote to stderr. */
  stderr: string;
}

/**
 * What a wait strategy sees of the container being started.
 *
 * @example
 * ```ts
 * const strategy: WaitStrategy = {
 *   description: "a marker file",
 *   async waitUntilReady(context) {
 *     while ((await context.exec(["test", "-e", "/tmp/ready"])).exitCode !== 0) await context.sleep(100);
 *   },
 * };
 * ```
 */
export interface WaitContext {
  /** The container's name, for messages. */
  readonly name: string;
  /**
   * Aborted when the start stops waiting: the deadline passed, the container exited (unless the
   * strategy waits for that), or another strategy of a `forAll` failed. Stop when it aborts.
   */
  readonly signal: AbortSignal;
  /** The host pid of the container's PID 1; `/proc/<pid>/net` shows the container's network namespace. */
  readonly pid: number;
  /** Where clients on this machine connect to published ports. */
  readonly host: string;
  /** The container's published and exposed TCP ports, for strategies that default to "all ports". */
  readonly defaultPorts: readonly number[];
  /** The host port a container TCP port is published on, if it is. */
  hostPort(port: number): number | undefined;
  /** Runs a command in the container. */
  exec(argv: string[]): Promise<WaitExecResult>;
  /** The container's output from its first line; ends when the container exits or `signal` aborts. */
  logLines(): AsyncIterable<LogLine>;
  /** Resolves with the exit status once the container has exited. */
  readonly exited: Promise<ExitStatus>;
  /** The healthcheck's state and changes; undefined when the container has no healthcheck. */
  readonly health: HealthWatch | undefined;
  /** Sleeps `ms`; rejects with `signal.reason` when the signal aborts. */
  sleep(ms: number): Promise<void>;
  /** Records the latest observation of a strategy (its description as key), for timeout messages. */
  note(description: string, observation: string): void;
  /** Records which TCP ports listened inside the container at the last look, for the StartupError. */
  noteListeningPorts(ports: readonly number[]): void;
}

/** A healthcheck as a wait strategy sees it. */
export interface HealthWatch {
  /** The current state and the last results. */
  state(): HealthState;
  /** Resolves at the next change of state (a new result or a new status). */
  changed(): Promise<void>;
}

/**
 * A way to tell that a container is ready. Strategies are immutable data plus one method; make
 * them with the {@link Wait} factories, or write one (it is a plain interface).
 *
 * @example
 * ```ts
 * new Container(image, { wait: Wait.forAll([Wait.forPort(5432), Wait.forLog("ready to accept connections")]) });
 * ```
 */
export interface WaitStrategy {
  /** What it waits for, in messages: `port 8080/tcp`, `log "ready"`. */
  readonly description: string;
  /**
   * True when the container's exit is what it waits for ({@link Wait.forExit}). Otherwise a
   * container that exits while the start waits fails the start at once.
   */
  readonly waitsForExit?: boolean;
  /**
   * Resolves once the container is ready; rejects when it can no longer become ready. Must stop
   * when `context.signal` aborts; the deadline and the container's exit are handled by the caller.
   */
  waitUntilReady(context: WaitContext): Promise<void>;
}

/**
 * Settles like `pending`, or rejects with the signal's reason when it aborts first. Leaves no
 * listener on the signal behind, so it can be called in a loop.
 *
 * @example
 * ```ts
 * const exit = await untilAborted(context.exited, context.signal);
 * ```
 */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Sleeps `ms`, or rejects with the signal's reason when it aborts first.
 *
 * @example
 * ```ts
 * await abortableSleep(100, context.signal);
 * ```
 */
export function abortableSleep(ms: number, signal: AbortSignal, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (options.unref) timer.unref();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
