/**
 * Subsystem debug logging: `BENTO_DEBUG=runtime,build,net,wait` (or `*`) prints what bento does
 * to stderr. Off by default; the check is one Set lookup, so call sites need no guard.
 */
import { config, type BentoConfig } from "./config.js";

/** The subsystems that log: the container runtime, image builds, networking and startup waits. */
export type DebugSubsystem = "runtime" | "build" | "net" | "wait";

/**
 * True when `BENTO_DEBUG` names `subsystem` (or is `*`).
 *
 * @example
 * ```ts
 * if (debugEnabled("wait")) debug("wait", `probe output: ${expensiveDump()}`);
 * ```
 */
export function debugEnabled(subsystem: DebugSubsystem, cfg: BentoConfig = config()): boolean {
  return cfg.debug.has(subsystem) || cfg.debug.has("*");
}

/**
 * Prints `bento:<subsystem> <time> <message>` to stderr when `BENTO_DEBUG` enables the subsystem.
 *
 * @example
 * ```ts
 * debug("wait", `web: port 8080/tcp listens after 412 ms`);
 * // BENTO_DEBUG=wait prints: bento:wait 2025-01-01T12:00:00.000Z web: port 8080/tcp listens after 412 ms
 * ```
 */
export function debug(subsystem: DebugSubsystem, message: string, cfg: BentoConfig = config()): void {
  if (!debugEnabled(subsystem, cfg)) return;
  process.stderr.write(`bento:${subsystem} ${new Date().toISOString()} ${message}\n`);
}
