/**
 * Healthchecks run by bento, with Docker's semantics (moby daemon/health.go): the first probe one
 * interval after the start, probes every `startInterval` during the start period while the status
 * is "starting", failures in the start period not counted, "unhealthy" after `retries` failures in
 * a row, and the last five results kept. The image's HEALTHCHECK and the container's `healthcheck`
 * option merge field by field, as `docker run --health-*` flags do.
 */
import { DEFAULT_SHELL, type HealthcheckConfig, type ImageConfig } from "../image/config.js";
import { debug } from "../debug.js";
import type { HealthcheckResult, HealthState } from "../health-state.js";
import type { HealthWatch, WaitExecResult } from "./wait-strategy.js";

export type { HealthcheckResult, HealthState, HealthStatus } from "../health-state.js";

/** A healthcheck with Docker's defaults applied; durations in milliseconds. */
export interface ResolvedHealthcheck {
  /** Docker's test form: `["CMD", ...argv]` or `["CMD-SHELL", text]`. */
  test: string[];
  /** What bento execs: the CMD argv, or the shell (the image's SHELL, else /bin/sh -c) plus the text. */
  argv: string[];
  /** Time between probes (default 30 000). */
  intervalMs: number;
  /** Time a probe may take before it counts as failed (default 30 000). */
  timeoutMs: number;
  /** Time after the start during which failures do not count (default 0). */
  startPeriodMs: number;
  /** Time between probes during the start period (default 5 000). */
  startIntervalMs: number;
  /** Failures in a row that make the container unhealthy (default 3). */
  retries: number;
}

// moby daemon/health.go: defaultProbeInterval, defaultProbeTimeout, defaultStartInterval,
// defaultProbeRetries, maxLogEntries, maxOutputLen.
const defaults = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 };
const maxLogEntries = 5;
const maxOutputBytes = 4096;

/**
 * The healthcheck a container runs: the container's option merged over the image's HEALTHCHECK
 * (each unset field, and an empty test, comes from the image, as in moby daemon/commit.go
 * `merge`), with Docker's defaults. Undefined when there is none or the test is `["NONE"]`.
 *
 * @example
 * ```ts
 * resolveHealthcheck({ Test: [], Interval: 500e6 }, imageConfig)?.intervalMs; // 500, the image's test
 * ```
 */
export function resolveHealthcheck(option: HealthcheckConfig | undefined, image: ImageConfig): ResolvedHealthcheck | undefined {
  const base = image.Healthcheck;
  const merged: HealthcheckConfig | undefined =
    option === undefined
      ? base
      : {
          ...option,
          Test: option.Test.length > 0 ? option.Test : (base?.Test ?? []),
          Interval: option.Interval || base?.Interval,
          Timeout: option.Timeout || base?.Timeout,
          StartPeriod: option.StartPeriod || base?.StartPeriod,
          StartInterval: option.StartInterval || base?.StartInterval,
          Retries: option.Retries || base?.Retries,
        };
  const [kind, ...rest] = merged?.Test ?? [];
  if (merged === undefined || (kind !== "CMD" && kind !== "CMD-SHELL") || rest.length === 0) return undefined;
  const ms = (ns: number | undefined, fallback: number) => (ns ? ns / 1e6 : fallback);
  return {
    test: [...merged.Test],
    argv: kind === "CMD" ? rest : [...(image.Shell?.length ? image.Shell : DEFAULT_SHELL), rest[0] as string],
    intervalMs: ms(merged.Interval, defaults.intervalMs),
    timeoutMs: ms(merged.Timeout, defaults.timeoutMs),
    startPeriodMs: ms(merged.StartPeriod, defaults.startPeriodMs),
    startIntervalMs: ms(merged.StartInterval, defaults.startIntervalMs),
    retries: merged.Retries || defaults.retries,
  };
}

/**
 * The state after one probe result, by Docker's rules (moby daemon/health.go `handleProbeResult`):
 * success makes it healthy; a failure in the start period while still starting does not count;
 * `retries` failures in a row make it unhealthy.
 *
 * @example
 * ```ts
 * nextHealthState(state, result, { retries: 3, startPeriodMs: 0, startedAtMs: Date.parse(startedAt) }).status;
 * ```
 */
export function nextHealthState(state: HealthState, result: HealthcheckResult, rules: { retries: number; startPeriodMs: number; startedAtMs: number }): HealthState {
  const log = [...state.log, result].slice(-maxLogEntries);
  if (result.exitCode === 0) return { status: "healthy", failingStreak: 0, log };
  const inStartPeriod = state.status === "starting" && Date.parse(result.start) - rules.startedAtMs < rules.startPeriodMs;
  if (inStartPeriod) return { ...state, log };
  const failingStreak = state.failingStreak + 1;
  return { status: failingStreak >= rules.retries ? "unhealthy" : state.status, failingStreak, log };
}

/** What a health monitor needs of a container. */
export interface HealthTarget {
  /** The container's name, for debug output. */
  readonly name: string;
  /** "running" while probes should run; "removed" ends the monitor. */
  readonly status: string;
  /** When the current run started; a new value means the container was started again. */
  readonly startedAt: Date | undefined;
  /** Runs a probe in the container; aborting `signal` kills it. */
  exec(argv: string[], options?: { signal?: AbortSignal }): Promise<WaitExecResult>;
}

const monitors = new WeakMap<object, HealthMonitor>();

/**
 * The health monitor of a container, when it has a healthcheck.
 *
 * @example
 * ```ts
 * healthMonitorOf(instance)?.state().status; // "healthy"
 * ```
 */
export function healthMonitorOf(target: object): HealthMonitor | undefined {
  return monitors.get(target);
}

function truncate(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return bytes.length <= maxOutputBytes ? text : bytes.subarray(0, maxOutputBytes).toString("utf8");
}

function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Runs a container's healthcheck for as long as the container exists, restarting its state on
 * each start. Its timers do not keep Node alive.
 *
 * @example
 * ```ts
 * const monitor = HealthMonitor.watch(instance, check);
 * await monitor.changed(); monitor.state().status;
 * ```
 */
export class HealthMonitor implements HealthWatch {
  private current: HealthState = { status: "starting", failingStreak: 0, log: [] };
  private listeners: (() => void)[] = [];
  private run: Date | undefined;
  private overrunProbe: Promise<unknown> | undefined;

  private constructor(
    private readonly target: HealthTarget,
    /** The healthcheck it runs. */
    readonly check: ResolvedHealthcheck,
  ) {}

  /**
   * Starts monitoring `target` (a started container) and registers the monitor for `inspect()`.
   *
   * @example
   * ```ts
   * HealthMonitor.watch(instance, resolveHealthcheck(undefined, image.config)!);
   * ```
   */
  static watch(target: HealthTarget, check: ResolvedHealthcheck): HealthMonitor {
    const monitor = new HealthMonitor(target, check);
    monitors.set(target, monitor);
    void monitor.loop();
    return monitor;
  }

  /**
   * A copy of the current state.
   *
   * @example
   * ```ts
   * monitor.state().log.at(-1)?.output;
   * ```
   */
  state(): HealthState {
    // Started again, and the loop has not looked yet: a new run starts with a new state.
    if (this.target.status === "running" && this.target.startedAt !== this.run) return { status: "starting", failingStreak: 0, log: [] };
    return { ...this.current, log: this.current.log.map((r) => ({ ...r })) };
  }

  /**
   * Resolves at the next recorded result.
   *
   * @example
   * ```ts
   * while (monitor.state().status === "starting") await monitor.changed();
   * ```
   */
  changed(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  private isCurrentRun(run: Date | undefined): boolean {
    return this.target.status === "running" && run !== undefined && this.target.startedAt === run;
  }

  private async loop(): Promise<void> {
    while (this.target.status !== "removed") {
      if (this.target.status !== "running") {
        await sleepUnref(250);
        continue;
      }
      const run = this.target.startedAt;
      if (run !== this.run) {
        this.run = run;
        this.current = { status: "starting", failingStreak: 0, log: [] };
      }
      const startedAtMs = run?.getTime() ?? Date.now();
      const inStartPeriod = this.current.status === "starting" && Date.now() - startedAtMs < this.check.startPeriodMs;
      await sleepUnref(inStartPeriod ? this.check.startIntervalMs : this.check.intervalMs);
      // bento cannot cancel an exec yet: a probe that outlived its timeout ends before the next starts.
      await this.overrunProbe;
      this.overrunProbe = undefined;
      if (!this.isCurrentRun(run)) continue;
      const result = await this.probe();
      if (result === undefined || !this.isCurrentRun(run)) continue;
      this.current = nextHealthState(this.current, result, { retries: this.check.retries, startPeriodMs: this.check.startPeriodMs, startedAtMs });
      debug("wait", `${this.target.name}: healthcheck exit ${result.exitCode}: ${this.current.status} (failing streak ${this.current.failingStreak})`);
      for (const listener of this.listeners.splice(0)) listener();
    }
    for (const listener of this.listeners.splice(0)) listener();
  }

  private async probe(): Promise<HealthcheckResult | undefined> {
    const start = new Date();
    const abort = new AbortController();
    const exec = this.target.exec(this.check.argv, { signal: abort.signal }).then(
      (r) => r,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(resolve, this.check.timeoutMs, "timeout");
      timer.unref();
    });
    const outcome = await Promise.race([exec, timeout]);
    clearTimeout(timer);
    const end = new Date().toISOString();
    if (outcome === "timeout") {
      abort.abort(); // as Docker: a probe past its timeout is killed
      this.overrunProbe = exec;
      return { start: start.toISOString(), end, exitCode: -1, output: `Health check exceeded timeout (${this.check.timeoutMs} ms)` };
    }
    if (outcome instanceof Error) {
      if (this.target.status !== "running") return undefined;
      return { start: start.toISOString(), end, exitCode: -1, output: truncate(outcome.message) };
    }
    return { start: start.toISOString(), end, exitCode: outcome.exitCode, output: truncate(outcome.stdout + outcome.stderr) };
  }
}
