/**
 * `--since` and `--until` of `bento logs`, as docker takes them: an RFC 3339 time
 * (2026-01-02T15:04:05Z, or a date), Unix seconds (1767366245.5), or a duration back from now
 * (10m, 1h30m, 42s).
 */
import type { LogLine } from "../runtime/logs.js";
import { UsageError } from "./args.js";

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The time `value` names, in ms since the epoch; a UsageError naming the option otherwise. */
export function parseLogTime(option: string, value: string, usage: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  if (/^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/.test(value)) {
    let ms = 0;
    for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) ms += Number(n) * unitMs[unit!]!;
    return now - ms;
  }
  const parsed = Date.parse(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`${option} "${value}": give a time (2026-01-02T15:04:05Z), Unix seconds, or a duration back from now (10m, 1h30m)`, usage);
  return parsed;
}

/** Keeps the lines written from `since` (inclusive) until `until` (exclusive), either open. */
export function linesBetween(lines: readonly LogLine[], since: number | undefined, until: number | undefined): LogLine[] {
  return lines.filter((l) => {
    const at = Date.parse(l.timestamp);
    return (since === undefined || at >= since) && (until === undefined || at < until);
  });
}
