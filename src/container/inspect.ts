/**
 * `inspect()` output: what a container is and how it runs, in plain data.
 */
import type { ImageConfig } from "../image/config.js";
import type { CgroupLimits } from "../runtime/cgroup/driver.js";
import { healthMonitorOf, type HealthState } from "../wait/healthcheck.js";
import type { ContainerInstance } from "./instance.js";

/**
 * A container's description.
 *
 * @example
 * ```ts
 * const { state, process, limits } = await container.inspect();
 * console.log(state.status, state.exitCode, process.argv, limits.memoryBytes);
 * ```
 */
export interface ContainerInspect {
  /** The container's id: 64 hex digits. */
  id: string;
  /** The container's unique name. */
  name: string;
  /** When it was created, in ISO 8601 (UTC). */
  created: string;
  /** Its lifecycle state and last exit. */
  state: {
    /** Where it is in its lifecycle. */
    status: "created" | "running" | "exited" | "removed";
    /** The host pid of its init, while it runs. */
    pid?: number;
    /** The last run's exit code; 128 + n when signal n killed it. */
    exitCode?: number;
    /** The signal that ended the last run, such as `SIGKILL`. */
    signal?: string;
    /** True when the kernel's OOM killer killed a process of the last run. */
    oomKilled: boolean;
    /** When the last run started, in ISO 8601 (UTC). */
    startedAt?: string;
    /** When the last run ended, in ISO 8601 (UTC). */
    finishedAt?: string;
    /** The healthcheck's status and last five results, when it has a healthcheck. */
    health?: HealthState;
  };
  /** The image config it runs with. */
  image: ImageConfig;
  /** The process it runs. */
  process: {
    /** The command line: entrypoint and command, after overrides. */
    argv: string[];
    /** The environment, as `KEY=value` strings. */
    env: string[];
    /** The working directory in the container. */
    cwd: string;
    /** The numeric user id it runs as. */
    uid: number;
    /** The numeric group id it runs as. */
    gid: number;
  };
  /** Its hostname: the `hostname` option, else the host's with host networking, else the first 12 digits of its id. */
  hostname: string;
  /** The labels it was created with. */
  labels: Record<string, string>;
  /** Its cgroup limits, from the `resources` option; absent fields are unlimited. */
  limits: CgroupLimits;
  /** The host path of its log file (bento-shim's timestamped records; read it with `logs()`). */
  logPath: string;
}

/** Builds the inspect record of an instance. */
export function inspectInstance(c: ContainerInstance): ContainerInspect {
  const exit = c.lastExit;
  const state: ContainerInspect["state"] = { status: c.status, oomKilled: exit?.oomKilled ?? false };
  if (c.pid !== undefined) state.pid = c.pid;
  if (exit) state.exitCode = exit.exitCode;
  if (exit?.signal) state.signal = exit.signal;
  if (c.startedAt) state.startedAt = c.startedAt.toISOString();
  if (c.finishedAt) state.finishedAt = c.finishedAt.toISOString();
  const health = healthMonitorOf(c)?.state();
  if (health) state.health = health;
  const p = c.spec.process;
  return {
    id: c.id,
    name: c.name,
    created: c.createdAt.toISOString(),
    state,
    image: c.source.config,
    process: { argv: p.argv, env: p.env, cwd: p.cwd, uid: p.uid, gid: p.gid },
    hostname: c.spec.hostname,
    labels: c.options.labels,
    limits: c.options.limits,
    logPath: c.spec.logFile,
  };
}
