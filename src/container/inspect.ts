/**
 * `inspect()` output: what a container is and how it runs, in plain data.
 */
import type { ImageConfig } from "../image/config.js";
import type { CgroupLimits } from "../runtime/cgroup/driver.js";
import { healthMonitorOf, type HealthState } from "../wait/healthcheck.js";
import type { ContainerInstance } from "./instance.js";

/** A container's description. */
export interface ContainerInspect {
  id: string;
  name: string;
  created: string;
  state: {
    status: "created" | "running" | "exited" | "removed";
    pid?: number;
    exitCode?: number;
    signal?: string;
    oomKilled: boolean;
    startedAt?: string;
    finishedAt?: string;
    /** The healthcheck's status and last five results, when it has a healthcheck. */
    health?: HealthState;
  };
  /** The image config it runs with. */
  image: ImageConfig;
  /** The process it runs. */
  process: { argv: string[]; env: string[]; cwd: string; uid: number; gid: number };
  hostname: string;
  labels: Record<string, string>;
  limits: CgroupLimits;
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
    id: c.id, name: c.name, created: c.createdAt.toISOString(), state, image: c.source.config,
    process: { argv: p.argv, env: p.env, cwd: p.cwd, uid: p.uid, gid: p.gid },
    hostname: c.spec.hostname, labels: c.options.labels, limits: c.options.limits, logPath: c.spec.logFile,
  };
}
