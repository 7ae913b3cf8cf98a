/**
 * Per-container runtime state under the runtime dir: a lock held by the owning process (and its
 * shim, which inherits the same open file), and a record of what to clean up. A container whose
 * lock is free has lost its owner: the sweep kills and removes what it left (DESIGN section 8).
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { releaseName } from "./names.js";
import { loadAddon } from "../native/load.js";
import { readPidsSync, removeCgroupDirSync } from "./cgroup/files.js";
import { config } from "../config.js";
import { removeTreeSync } from "./trash.js";

/** What the sweep needs to clean up after a container whose owner died. */
export interface StateRecord {
  id: string;
  name: string;
  /** The owning process, for people reading the file. */
  ownerPid: number;
  cgroupPaths: string[];
  /** The container's directory in the store (upper, work, logs); removed by the sweep. */
  containerDir: string;
  /** Other directories that die with the container (its anonymous volumes). */
  removeDirs?: string[];
  /**
   * Started with `detach`: its shim, which holds the lock too, outlives the owner. The owner's
   * exit leaves it alone; once the shim ended, its recorded exit keeps it until it is removed.
   */
  detached?: boolean;
}

/** How a detached container's run ended, as its shim recorded it (see {@link exitRecordFile}). */
export interface ExitRecord {
  /** The wait(2) status of its PID 1. */
  initStatus: number;
  /** The wait(2) status of its command, when bento's init (PID 1) reported it. */
  payloadStatus?: number;
  /** OOM kills its memory cgroup counted; -1 or absent without a counter. */
  oomKills?: number;
  /** When the shim saw it end (ms since the epoch). */
  finishedAtMs: number;
}

/** Where the shim of a detached container records its exit: in the container's state dir. */
export function exitRecordFile(stateDir: string): string {
  return join(stateDir, "exit.json");
}

/** The recorded exit of a detached container, or undefined while it runs (or if it never ran). */
export function readExitRecord(stateDir: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(exitRecordFile(stateDir), "utf8")) as ExitRecord;
  } catch {
    return undefined;
  }
}

/** A container's claim on its runtime state: the open, locked lock file. */
export interface StateLock {
  dir: string;
  fd: number;
}

/** Creates the container's state dir and takes its lock, then records what to clean. */
export function claimState(runtimeDir: string, record: StateRecord): StateLock {
  const dir = join(runtimeDir, record.id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(join(dir, "lock"), "w", 0o600);
  loadAddon().flock(fd, "exclusive", true);
  // Written after the lock is held: a sweeper that sees state.json with a free lock knows
  // the owner is gone, never that it is still starting.
  writeFileSync(join(dir, "state.json.tmp"), JSON.stringify(record));
  renameSync(join(dir, "state.json.tmp"), join(dir, "state.json"));
  return { dir, fd };
}

/**
 * Records the running init of a container that has no cgroup (rootless without delegation), so
 * other processes can tell it runs: its pid and start time (field 22 of /proc/<pid>/stat), which
 * a reused pid does not match. undefined clears it.
 */
export function recordInit(lock: StateLock, pid: number | undefined): void {
  const file = join(lock.dir, "init");
  if (pid === undefined) return rmSync(file, { force: true });
  const start = processStartTime(pid);
  if (start !== undefined) writeFileSync(file, `${pid} ${start}`);
}

/** The recorded init's pid while that process still runs, else []. */
export function recordedInitPids(stateDir: string): number[] {
  try {
    const [pid, start] = readFileSync(join(stateDir, "init"), "utf8").split(" ").map(Number);
    return pid !== undefined && start !== undefined && processStartTime(pid) === start ? [pid] : [];
  } catch {
    return [];
  }
}

function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** Releases the lock and deletes the state dir (the container was removed). */
export function releaseState(lock: StateLock): void {
  // The dir holds only files (the lock, the record): unlinked by name, which saves the stat of
  // each and the failed rmdir a recursive rm starts with; anything else goes the general way.
  try {
    for (const name of readdirSync(lock.dir)) unlinkSync(join(lock.dir, name));
    rmdirSync(lock.dir);
  } catch {
    rmSync(lock.dir, { recursive: true, force: true });
  }
  closeSync(lock.fd);
}

/** Kills what is left in a container's cgroups and removes them and its directories. */
export function cleanUpSync(record: Pick<StateRecord, "cgroupPaths" | "containerDir" | "removeDirs">): void {
  for (const dir of record.cgroupPaths) {
    for (const pid of readPidsSync(join(dir, "cgroup.procs"))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const dir of record.cgroupPaths) removeCgroupDirSync(dir);
  removeTreeSync(config().home, record.containerDir, "swept");
  for (const dir of record.removeDirs ?? []) removeTreeSync(config().home, dir, "swept-volume");
}

/** Cleans up a container whose owner is gone, then its state dir and its name. */
function dropContainer(statesDir: string, dir: string, record: StateRecord): void {
  // A container without a cgroup: its PID namespace dies with its init.
  for (const pid of recordedInitPids(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  cleanUpSync(record);
  rmSync(dir, { recursive: true, force: true });
  releaseName(dirname(statesDir), record.name, record.id);
}

const staleWithoutRecordMs = 60_000;

/**
 * Cleans every container whose owner died: its lock is free. Returns the ids swept. Safe to run
 * from several processes at once: whoever takes a lock cleans that container. A detached
 * container whose shim recorded its exit waits for its removal (as docker keeps an exited
 * container) unless `keepExited` is false (a prune); one whose shim died without a record is swept.
 */
export function sweepOrphans(runtimeDir: string, options: { keepExited?: boolean } = {}): string[] {
  let entries: string[];
  try {
    entries = readdirSync(runtimeDir);
  } catch {
    return [];
  }
  const addon = loadAddon();
  const swept: string[] = [];
  for (const id of entries) {
    const dir = join(runtimeDir, id);
    let fd: number;
    try {
      fd = openSync(join(dir, "lock"), "r");
    } catch {
      // No lock file: a start that died before taking it, or one just beginning.
      try {
        if (Date.now() - statSync(dir).mtimeMs > staleWithoutRecordMs) rmSync(dir, { recursive: true, force: true });
      } catch {
        // gone already
      }
      continue;
    }
    try {
      if (!addon.flock(fd, "exclusive", false)) continue;
      let record: StateRecord;
      try {
        record = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as StateRecord;
      } catch {
        // Locked-then-recorded order: no record means its owner is still starting, or died
        // before recording anything (then nothing but the dir exists to clean).
        if (Date.now() - statSync(dir).mtimeMs > staleWithoutRecordMs) rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (record.detached && options.keepExited !== false && readExitRecord(dir) !== undefined) continue;
      dropContainer(runtimeDir, dir, record);
      swept.push(id);
    } finally {
      closeSync(fd);
    }
  }
  return swept;
}

/**
 * Cleans every container this process owns that is not otherwise tracked: those started from
 * worker threads, whose objects died with their thread. Run by the main thread's exit hook.
 */
export function sweepOwnedBy(runtimeDir: string, ownerPid: number): string[] {
  let entries: string[];
  try {
    entries = readdirSync(runtimeDir);
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const id of entries) {
    const dir = join(runtimeDir, id);
    try {
      const record = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as StateRecord;
      // A detached container outlives its owner by design.
      if (record.ownerPid !== ownerPid || record.detached) continue;
      dropContainer(runtimeDir, dir, record);
      swept.push(id);
    } catch {
      // no record, or gone already
    }
  }
  return swept;
}
