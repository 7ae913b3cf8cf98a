/**
 * Capability sets. Containers get Docker's default set (moby's oci/caps defaults); capAdd and
 * capDrop adjust it by name, with or without the CAP_ prefix, as `docker run --cap-add` does.
 */
import { readFileSync } from "node:fs";
import { InvalidOptionError } from "../errors.js";

/** Capability numbers, from linux/capability.h. */
const capabilityNumbers: Record<string, number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  LINUX_IMMUTABLE: 9,
  NET_BIND_SERVICE: 10,
  NET_BROADCAST: 11,
  NET_ADMIN: 12,
  NET_RAW: 13,
  IPC_LOCK: 14,
  IPC_OWNER: 15,
  SYS_MODULE: 16,
  SYS_RAWIO: 17,
  SYS_CHROOT: 18,
  SYS_PTRACE: 19,
  SYS_PACCT: 20,
  SYS_ADMIN: 21,
  SYS_BOOT: 22,
  SYS_NICE: 23,
  SYS_RESOURCE: 24,
  SYS_TIME: 25,
  SYS_TTY_CONFIG: 26,
  MKNOD: 27,
  LEASE: 28,
  AUDIT_WRITE: 29,
  AUDIT_CONTROL: 30,
  SETFCAP: 31,
  MAC_OVERRIDE: 32,
  MAC_ADMIN: 33,
  SYSLOG: 34,
  WAKE_ALARM: 35,
  BLOCK_SUSPEND: 36,
  AUDIT_READ: 37,
  PERFMON: 38,
  BPF: 39,
  CHECKPOINT_RESTORE: 40,
};

/** Docker's default capabilities for a container. */
export const defaultCapabilities: readonly string[] = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"];

function capabilityNumber(option: string, name: string): number | "ALL" {
  const bare = name.toUpperCase().replace(/^CAP_/, "");
  if (bare === "ALL") return "ALL";
  const n = capabilityNumbers[bare];
  if (n === undefined) throw new InvalidOptionError(option, `"${name}" is not a Linux capability (e.g. "NET_ADMIN"; see capabilities(7))`);
  return n;
}

/** The capability bit mask for Docker's defaults plus `add` minus `drop`. */
export function capabilityMask(add: readonly string[] = [], drop: readonly string[] = []): bigint {
  let mask = 0n;
  const all = Object.values(capabilityNumbers).reduce((m, n) => m | (1n << BigInt(n)), 0n);
  for (const name of defaultCapabilities) mask |= 1n << BigInt(capabilityNumbers[name]!);
  for (const name of add) {
    const n = capabilityNumber("capAdd", name);
    mask = n === "ALL" ? all : mask | (1n << BigInt(n));
  }
  for (const name of drop) {
    const n = capabilityNumber("capDrop", name);
    mask = n === "ALL" ? 0n : mask & ~(1n << BigInt(n));
  }
  return mask;
}

/** The names ("CAP_CHOWN", ...) of the capabilities in `mask`. */
export function capabilityNames(mask: bigint): string[] {
  return Object.entries(capabilityNumbers)
    .filter(([, n]) => (mask >> BigInt(n)) & 1n)
    .map(([name]) => `CAP_${name}`);
}

/**
 * Every capability a process started from here may hold: the bounding set (a container runtime
 * inside a restricted sandbox has fewer than the kernel knows, and capset(2) refuses the rest).
 * Rootless, every capability: a process that enters a user namespace gets a full bounding set
 * there, and those capabilities reach only what the namespace owns. Docker's --privileged gets these.
 *
 * @example
 * ```ts
 * privilegedCapabilities(); // 0x1ffffffffffn on an unrestricted host
 * ```
 */
export function privilegedCapabilities(): bigint {
  const all = capabilityMask(["ALL"]);
  if ((process.geteuid?.() ?? 0) !== 0) return all;
  try {
    const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return bounding ? all & BigInt(`0x${bounding[1]}`) : all;
  } catch {
    return all;
  }
}
