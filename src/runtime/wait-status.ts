/**
 * Decoding of waitpid(2) status words and the mapping of helper errors to SystemCallError.
 */
import { constants } from "node:os";
import { getSystemErrorName } from "node:util";
import { SystemCallError } from "../errors.js";
import type { HelperEvent } from "../native/helper-process.js";

/** How a container's main process ended, in Docker's terms. */
export interface ExitStatus {
  /** The exit code; 128 + n when killed by signal n, as Docker reports. */
  exitCode: number;
  /** The signal that killed it, such as "SIGKILL". */
  signal?: string;
  /** True when the kernel's OOM killer ended it. */
  oomKilled: boolean;
}

const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** The name of signal number n ("SIGTERM"). */
export function signalName(n: number): string {
  return signalNames.get(n) ?? `SIG${n}`;
}

/** The number of a signal given by name ("SIGTERM", "TERM") or number. */
export function signalNumber(signal: string | number): number | undefined {
  if (typeof signal === "number") return Number.isInteger(signal) && signal > 0 && signal < 65 ? signal : undefined;
  const upper = signal.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return (constants.signals as Record<string, number>)[name];
}

/** Decodes a wait status word (WIFEXITED / WTERMSIG). */
export function decodeWaitStatus(status: number, oomKilled: boolean): ExitStatus {
  const signal = status & 0x7f;
  if (signal === 0) return { exitCode: (status >> 8) & 0xff, oomKilled };
  return { exitCode: 128 + signal, signal: signalName(signal), oomKilled };
}

/** Turns a helper's error event into a SystemCallError naming the plan step. */
export function systemCallErrorOf(context: string, event: HelperEvent, describe: (step: number) => string): SystemCallError {
  const errno = event.errno ?? 0;
  let errnoCode: string;
  try {
    errnoCode = getSystemErrorName(-errno);
  } catch {
    errnoCode = `E${errno}`;
  }
  const op = event.step !== undefined && event.step >= 0 ? describe(event.step) : event.phase === "exec" ? "exec the command" : undefined;
  return new SystemCallError(op ? `${context}: ${op}` : context, {
    errnoCode,
    errno: -errno,
    syscall: event.syscall ?? "unknown",
    ...(event.path ? { path: event.path } : {}),
    ...(op ? { op } : {}),
  });
}
