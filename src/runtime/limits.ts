/**
 * Turns the user's resource options into cgroup limits, rejecting bad values with an error that
 * names the option and the fix.
 */
import { InvalidOptionError } from "../errors.js";
import type { CgroupLimits } from "./cgroup/driver.js";

/** Resource limits of a container, in Docker's terms. */
export interface ResourceOptions {
  /** Memory limit: bytes, or a string with a unit as `docker run -m` takes ("256m", "1g", "512k"). */
  memory?: number | string;
  /** CPUs the container may use, as `docker run --cpus` ("0.5" is half of one CPU). */
  cpus?: number;
  /** Relative CPU weight, as `docker run --cpu-shares` (2-262144; default 1024). */
  cpuShares?: number;
  /** Maximum number of processes, as `docker run --pids-limit`. */
  pids?: number;
  /** Relative IO weight, as `docker run --blkio-weight` (10-1000). */
  ioWeight?: number;
}

const units: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses "256m"-style sizes (binary units, as Docker's RAMInBytes). */
export function parseBytes(option: string, value: number | string): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(option, `${value} is not a positive whole number of bytes; use e.g. 268435456 or "256m"`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(value);
  if (!match) throw new InvalidOptionError(option, `"${value}" is not a size; use a number with an optional unit b, k, m or g (e.g. "256m")`);
  const bytes = Math.floor(Number(match[1]) * units[match[2]!.toLowerCase()]!);
  if (bytes <= 0) throw new InvalidOptionError(option, `"${value}" must be more than 0 bytes`);
  // Past 2^53 the number is no longer exact, and past 2^63 the kernel would wrap it.
  if (!Number.isSafeInteger(bytes)) throw new InvalidOptionError(option, `"${value}" is too large; give at most ${Number.MAX_SAFE_INTEGER} bytes (8 PiB)`);
  return bytes;
}

function wholeNumberIn(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `${value} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** The memory floor: below this a container cannot even start its init (Docker refuses < 6 MiB). */
const minMemoryBytes = 6 * 1024 * 1024;
const cpuPeriodUs = 100_000;

/** Validates resource options and converts them to cgroup limits. */
export function toCgroupLimits(resources: ResourceOptions = {}): CgroupLimits {
  const limits: CgroupLimits = {};
  if (resources.memory !== undefined) {
    const bytes = parseBytes("resources.memory", resources.memory);
    if (bytes < minMemoryBytes) throw new InvalidOptionError("resources.memory", `${bytes} bytes is below the minimum of 6m; give at least "6m"`);
    limits.memoryBytes = bytes;
  }
  if (resources.cpus !== undefined) {
    if (typeof resources.cpus !== "number" || !Number.isFinite(resources.cpus) || resources.cpus <= 0) {
      throw new InvalidOptionError("resources.cpus", `${resources.cpus} must be a number of CPUs above 0 (e.g. 0.5)`);
    }
    limits.cpuPeriodUs = cpuPeriodUs;
    limits.cpuQuotaUs = Math.max(1000, Math.round(resources.cpus * cpuPeriodUs));
  }
  if (resources.cpuShares !== undefined) limits.cpuShares = wholeNumberIn("resources.cpuShares", resources.cpuShares, 2, 262_144);
  if (resources.pids !== undefined) limits.pidsMax = wholeNumberIn("resources.pids", resources.pids, 1, 4_194_304);
  if (resources.ioWeight !== undefined) limits.ioWeight = wholeNumberIn("resources.ioWeight", resources.ioWeight, 10, 1000);
  return limits;
}
