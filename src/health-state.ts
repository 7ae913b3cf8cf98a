/**
 * A container's health as data (`docker inspect`'s `State.Health`). It sits in the bottom layer
 * because errors (`StartupError`) report it; the healthcheck runner lives in `wait/`.
 */

/** Docker's health status: "starting" until the first success or `retries` failures. */
export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One probe's result, as `docker inspect` shows it in `State.Health.Log`. */
export interface HealthcheckResult {
  /** When the probe started (ISO 8601). */
  start: string;
  /** When it ended (ISO 8601). */
  end: string;
  /** Its exit code: 0 is healthy; -1 when it timed out or could not run. */
  exitCode: number;
  /** Its stdout then stderr, at most 4096 bytes. */
  output: string;
}

/**
 * A container's health, as `docker inspect` shows it in `State.Health`.
 *
 * @example
 * ```ts
 * const { status, failingStreak, log } = (await running.inspect()).state.health!;
 * ```
 */
export interface HealthState {
  /** "starting", "healthy" or "unhealthy". */
  status: HealthStatus;
  /** Failed probes in a row (not counting the start period). */
  failingStreak: number;
  /** The last five results, oldest first. */
  log: HealthcheckResult[];
}
