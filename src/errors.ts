/**
 * bento's error classes. Every error has a stable string `code`; facts live in fields, not only
 * in the message (see shared/STYLE.md section 5).
 */
import { getSystemErrorMap } from "node:util";
import type { HealthState } from "./health-state.js";

/** Options common to every bento error. */
export interface BentoErrorOptions {
  /** The error that caused this one (ES2022 `cause`). */
  cause?: unknown;
}

/**
 * The base class of every error bento throws. `code` is stable and says what failed.
 *
 * @example
 * ```ts
 * try { await container.start(); } catch (e) { if (e instanceof BentoError) console.log(e.code); }
 * ```
 */
export class BentoError extends Error {
  /** A stable code, such as `ERR_INVALID_OPTION`. */
  readonly code: string;

  constructor(code: string, message: string, options: BentoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, "name", { value: new.target.name, enumerable: false });
  }
}

/**
 * A bad argument or option: names the input and the fix. Nothing was changed.
 *
 * @example
 * ```ts
 * new Container(image, { resources: { memory: "-1" } }); // throws InvalidOptionError
 * ```
 */
export class InvalidOptionError extends BentoError {
  /** The option's path, such as `resources.memory`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super("ERR_INVALID_OPTION", `${option}: ${message}`);
    this.option = option;
  }
}

/** What a failed system call reported, in Node's SystemError shape. */
export interface SystemCallErrorFields {
  /** The errno name, such as `"EPERM"`. */
  errnoCode: string;
  /** The errno as Node reports it: negative. */
  errno: number;
  /** The system call, such as `"mount"`. */
  syscall: string;
  /** The path the call worked on, when there was one. */
  path?: string;
  /** The plan step that failed, such as `mount /proc`. */
  op?: string;
}

/**
 * A system call failed while bento set up or ran a container. Has Node's SystemError fields plus
 * `op`, the plan step that failed.
 *
 * @example
 * ```ts
 * if (e instanceof SystemCallError && e.code === "EPERM") console.log(e.syscall, e.path, e.op);
 * ```
 */
export class SystemCallError extends BentoError {
  /** Negative errno, as in Node's `fs` errors. */
  readonly errno: number;
  /** The failing system call. */
  readonly syscall: string;
  /** The path involved, if any. */
  readonly path: string | undefined;
  /** The plan step that failed, if any. */
  readonly op: string | undefined;

  constructor(context: string, fields: SystemCallErrorFields, options: BentoErrorOptions = {}) {
    const where = fields.path === undefined ? "" : ` "${fields.path}"`;
    super(fields.errnoCode, `${context}: ${fields.syscall}${where}: ${fields.errnoCode} (${describeErrno(fields.errnoCode)})`, options);
    this.errno = fields.errno;
    this.syscall = fields.syscall;
    this.path = fields.path;
    this.op = fields.op;
  }
}

/** The phases of a container start, for {@link StartupError}. */
export type StartupPhase = "build" | "prepare" | "setup" | "exec" | "wait";

/** Details of a failed start. */
export interface StartupErrorDetails {
  /** The phase that failed. */
  phase: StartupPhase;
  /** The container's exit code, if it exited. */
  exitCode?: number;
  /** The signal that ended it, if any. */
  signal?: string;
  /** Whether the kernel's OOM killer ended it. */
  oomKilled?: boolean;
  /** The last lines of its output. */
  logTail?: string[];
  /** What the start waited for when it failed, such as `port 8080/tcp`. */
  waitingFor?: string;
  /** True when the startup deadline (`startupTimeoutMs`, times `BENTO_TIMEOUT_SCALE`) passed. */
  timedOut?: boolean;
  /** The healthcheck's status and last results, when the container has a healthcheck. */
  health?: HealthState;
  /** The TCP ports that listened inside the container at the last look (port waits). */
  listeningPorts?: number[];
}

/**
 * A container failed to start. Names the phase, and carries the exit status, OOM, the last log
 * lines, the healthcheck history and, for port waits, the ports that listened. The container was
 * removed; the message reads on its own.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StartupError) console.log(e.phase, e.exitCode, e.logTail, e.health?.log, e.listeningPorts); }
 * ```
 */
export class StartupError extends BentoError {
  /** The phase that failed. */
  readonly phase: StartupPhase;
  /** The container's exit code, when it exited. */
  readonly exitCode: number | undefined;
  /** The signal that ended it, when one did. */
  readonly signal: string | undefined;
  /** True when the kernel's OOM killer ended it. */
  readonly oomKilled: boolean;
  /** The last lines the container wrote (at most 50). */
  readonly logTail: string[];
  /** What the start waited for when it failed, such as `port 8080/tcp`. */
  readonly waitingFor: string | undefined;
  /** True when the startup deadline passed. */
  readonly timedOut: boolean;
  /** The healthcheck's status and last five results, when the container has a healthcheck. */
  readonly health: HealthState | undefined;
  /** The TCP ports that listened inside the container at the last look, for port waits. */
  readonly listeningPorts: number[] | undefined;

  constructor(container: string, details: StartupErrorDetails, options: BentoErrorOptions = {}) {
    const status = details.signal ? `, killed by ${details.signal}` : details.exitCode !== undefined ? `, exit code ${details.exitCode}` : "";
    const oom = details.oomKilled ? " (out of memory)" : "";
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : "";
    const ports = details.listeningPorts === undefined ? "" : `\nlistening inside the container: ${details.listeningPorts.length ? details.listeningPorts.map((p) => `${p}/tcp`).join(", ") : "no TCP port"}`;
    const health = details.health === undefined ? "" : `\n${describeHealth(details.health)}`;
    const tail = details.logTail?.length ? `\nlast log lines:\n  ${details.logTail.join("\n  ")}` : "";
    super("ERR_STARTUP", `start ${container}: ${details.phase} failed${status}${oom}${reason}${ports}${health}${tail}`, options);
    this.phase = details.phase;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.oomKilled = details.oomKilled ?? false;
    this.logTail = details.logTail ?? [];
    this.waitingFor = details.waitingFor;
    this.timedOut = details.timedOut ?? false;
    this.health = details.health;
    this.listeningPorts = details.listeningPorts;
  }
}

/** The healthcheck part of a StartupError's message. */
function describeHealth(health: HealthState): string {
  const head = `healthcheck: ${health.status}, ${health.failingStreak} failures in a row`;
  if (health.log.length === 0) return `${head}; no probe ran`;
  const results = health.log.map((r) => {
    const output = r.output
      .trim()
      .replace(/\s*\n\s*/g, " | ")
      .slice(0, 200);
    return `${r.start} exit ${r.exitCode}${output ? `: ${output}` : ""}`;
  });
  return `${head}; last results:\n  ${results.join("\n  ")}`;
}

/**
 * The container is not in a state that allows the call (for example, it was removed).
 *
 * @example
 * ```ts
 * await stopped.remove(); await stopped.start(); // throws ContainerStateError
 * ```
 */
export class ContainerStateError extends BentoError {
  constructor(message: string) {
    super("ERR_CONTAINER_STATE", message);
  }
}

/**
 * The host lacks something bento needs (root, a kernel feature, a cgroup hierarchy).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof HostUnsupportedError) console.log(e.message); }
 * ```
 */
export class HostUnsupportedError extends BentoError {
  constructor(message: string, options: BentoErrorOptions = {}) {
    super("ERR_HOST_UNSUPPORTED", message, options);
  }
}

const systemErrors = getSystemErrorMap();

function describeErrno(code: string): string {
  for (const [, [name, text]] of systemErrors) if (name === code) return text;
  return code;
}
