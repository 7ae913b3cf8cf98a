/**
 * The cgroup driver of a rootless process that was given no cgroup v2 subtree of its own: it
 * creates no cgroup at all. Teardown does not need one (the PID namespace dies with its init,
 * and init dies with the shim and Node through PR_SET_PDEATHSIG), but limits and stats do: a
 * container that asks for them fails with the way to get a delegated subtree, never runs
 * silently unlimited.
 */
import { readdirSync, readFileSync } from "node:fs";
import { HostUnsupportedError } from "../../errors.js";
import type { CgroupDriver, CgroupLimits, CgroupSetup, CgroupStats } from "./driver.js";
import { procStats } from "./files.js";

/** How a rootless user gets a cgroup v2 subtree bento may manage. */
export const DELEGATION_FIX =
  "run on a cgroup v2 host with a delegated subtree (systemd: systemd-run --user --scope -p Delegate=yes <command>, or the user's user@UID.service), or set BENTO_CGROUP_PARENT to a cgroup2 directory you own whose cgroup.subtree_control enables the controllers; or run as root";

export class UndelegatedCgroupDriver implements CgroupDriver {
  readonly version = "v2" as const;

  /** @param reason why no subtree could be used (shown in every error). */
  constructor(readonly reason: string) {}

  paths(): string[] {
    return [];
  }

  setup(_id: string, limits: CgroupLimits): CgroupSetup {
    const asked = Object.entries(limits)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (asked.length > 0) {
      throw new HostUnsupportedError(`resources (${asked.join(", ")}): rootless limits need a delegated cgroup v2 subtree, and ${this.reason}; ${DELEGATION_FIX}`);
    }
    return { hostOps: [], procsFiles: [] };
  }

  procsFiles(): string[] {
    return [];
  }

  /** From /proc: the container's init and its descendants (as the v1 driver does without a memory cgroup). */
  async stats(_id: string, initPid?: number): Promise<CgroupStats> {
    return procStats(initPid === undefined ? [] : descendants(initPid));
  }

  oomKilled(): Promise<boolean> {
    return Promise.resolve(false);
  }

  oomCounter(): undefined {
    return undefined;
  }

  /**
   * Without a cgroup, the processes below init: killing init alone is enough in a PID namespace
   * of the container's own, but not in a shared one (pid: { container } or "host"), where they
   * would live on.
   */
  killAll(_id: string, initPid?: number): Promise<void> {
    if (initPid !== undefined) killDescendants(initPid);
    return Promise.resolve();
  }

  freeze(): Promise<boolean> {
    return Promise.resolve(false);
  }

  remove(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * `pid` and every process below it, through /proc/<pid>/task/<tid>/children (proc(5)): the
 * processes of a container without a cgroup, from its init.
 *
 * @example
 * ```ts
 * descendants(initPid).length; // the container's process count
 * ```
 */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const next = todo.pop()!;
    found.push(next);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${next}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tasks) {
      try {
        for (const child of readFileSync(`/proc/${next}/task/${tid}/children`, "utf8").trim().split(/\s+/)) if (child) todo.push(Number(child));
      } catch {
        // exited meanwhile
      }
    }
  }
  return found;
}

/**
 * SIGKILLs every process below `pid` (not `pid` itself), again until none is left: one may fork
 * while the tree is read. A container's init is a child subreaper (addon/shim/init.cc), so orphans
 * stay below it until it dies.
 */
export function killDescendants(pid: number): void {
  for (let round = 0; round < 10; round++) {
    const below = descendants(pid).filter((p) => p !== pid);
    if (below.length === 0) return;
    for (const p of below) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
  }
}
