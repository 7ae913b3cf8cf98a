/**
 * Every container on this machine, whichever process started it: what `bento ps`, `logs`, `rm`
 * and `prune` work on. A container is known by its state dir under the runtime dir (a lock its
 * owner holds, and state.json) and by its directory in the store (config.json, the log). The
 * owner is alive while the lock is held (DESIGN section 8); a container whose lock is free was
 * left behind by a process that died, and only its files remain.
 */
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { config, type BentoConfig } from "../config.js";
import { BentoError } from "../errors.js";
import { loadAddon } from "../native/load.js";
import { removeCgroupDirSync } from "./cgroup/files.js";
import { cgroupPids, killCgroups, probeLock } from "./container-processes.js";
import { releaseName } from "./names.js";
import { removeTreeSync } from "./trash.js";
import { readExitRecord, recordedInitPids, sweepOrphans, type StateRecord } from "./state.js";
import { decodeWaitStatus, type ExitStatus } from "./wait-status.js";

/**
 * Where a container stands:
 * - `running`: its owner is alive and processes run in its cgroups;
 * - `stopped`: its owner is alive (it may start it again) and nothing runs in it;
 * - `exited`: a detached container whose helper recorded its exit; it stays until it is removed;
 * - `left-behind`: its owner died; its files wait for a sweep (`bento prune`, or the next start).
 */
export type MachineContainerStatus = "running" | "stopped" | "exited" | "left-behind";

/** How a detached container's run ended, as its helper recorded it. */
export interface MachineContainerExit extends ExitStatus {
  /** When its helper saw it end. */
  finishedAt: Date;
}

/** A container on this machine, as its state dir and its store directory describe it. */
export interface MachineContainer {
  /** The full id (64 hex digits). */
  id: string;
  /** Its unique name. */
  name: string;
  /** Running, stopped, or left behind by a process that died. */
  status: MachineContainerStatus;
  /** The process that started it (undefined when its runtime state is gone). */
  ownerPid: number | undefined;
  /** True while the owner holds the container's lock (for a detached container: its owner or its helper). */
  ownerAlive: boolean;
  /** Started with `detach`: it outlives the process that started it. */
  detached: boolean;
  /** How a detached container's last run ended, once its helper recorded it. */
  exit: MachineContainerExit | undefined;
  /** When it was created (its config.json was written), if known. */
  createdAt: Date | undefined;
  /** The store image it runs, when it came from the store. */
  imageId: string | undefined;
  /** The labels it was created with. */
  labels: Record<string, string>;
  /** The named volumes it mounts. */
  volumes: string[];
  /** The processes in its cgroups now. */
  pids: number[];
  /** Its directory in the store (config, upper dir, log). */
  containerDir: string;
  /** Its log file ("<unix ns> <o|e|O|E> <text>" records). */
  logPath: string;
  /**
   * @internal Its runtime state; undefined when only its store directory is left (e.g. after a
   * reboot cleared the runtime dir).
   */
  record: StateRecord | undefined;
}

/** The directories to look in: `BENTO_RUNTIME_DIR` and `BENTO_HOME`. */
export type MachinePaths = Pick<BentoConfig, "runtimeDir" | "home">;

/** What {@link removeMachineContainer} did. */
export interface RemovedContainer {
  id: string;
  name: string;
  /** True when the owner was alive: its container was killed under it and its files deleted. */
  tookFromOwner: boolean;
  ownerPid: number | undefined;
  /** True when processes were still running in it and were killed. */
  killed: boolean;
}

/** Options of {@link removeMachineContainer}. */
export interface RemoveMachineContainerOptions {
  /**
   * Remove a container whose owner is still alive: kill its processes (cgroup.kill, else SIGKILL
   * to each) and delete its files. The owner sees its container exit.
   */
  force?: boolean;
}

/** A container dir with no runtime state may be one being created right now: leave it this long. */
const createGraceMs = 60_000;

function statesDir(paths: MachinePaths): string {
  return join(paths.runtimeDir, "containers");
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface ContainerConfigFile {
  id?: string;
  name?: string;
  imageId?: string | null;
  labels?: Record<string, string>;
  volumes?: string[];
}

function createdAt(files: string[]): Date | undefined {
  for (const file of files) {
    try {
      return statSync(file).mtime;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** Describes one container by id, or undefined when nothing of it is readable (being made or removed). */
function describeContainer(paths: MachinePaths, id: string): MachineContainer | undefined {
  const stateDir = join(statesDir(paths), id);
  const record = readJson<StateRecord>(join(stateDir, "state.json"));
  const containerDir = record?.containerDir ?? join(paths.home, "containers", id);
  const cfg = readJson<ContainerConfigFile>(join(containerDir, "config.json"));
  if (record === undefined && cfg === undefined) return undefined;
  const lock = probeLock(join(stateDir, "lock"));
  // A record without a lock file cannot happen (the lock comes first); treat it as left behind.
  const ownerAlive = lock === "held";
  const pids = !record ? [] : containerPids(stateDir, record);
  const recorded = record?.detached ? readExitRecord(stateDir) : undefined;
  const exit = recorded && { ...decodeWaitStatus(recorded.payloadStatus ?? recorded.initStatus, (recorded.oomKills ?? 0) > 0), finishedAt: new Date(recorded.finishedAtMs) };
  const status: MachineContainerStatus = pids.length > 0 && ownerAlive ? "running" : exit ? "exited" : !ownerAlive ? "left-behind" : "stopped";
  return {
    id,
    name: record?.name ?? cfg?.name ?? id.slice(0, 12),
    status,
    ownerPid: record?.ownerPid,
    ownerAlive,
    detached: record?.detached === true,
    exit,
    createdAt: createdAt([join(containerDir, "config.json"), join(stateDir, "state.json")]),
    imageId: cfg?.imageId ?? undefined,
    labels: cfg?.labels ?? {},
    volumes: cfg?.volumes ?? [],
    pids,
    containerDir,
    logPath: join(containerDir, "container.log"),
    record,
  };
}

/**
 * Every container on this machine: those of live processes (running or stopped) and those left
 * behind by processes that died. Newest first.
 *
 * @example
 * ```ts
 * for (const c of listMachineContainers()) console.log(c.id.slice(0, 12), c.name, c.status, c.ownerPid);
 * ```
 */
export function listMachineContainers(paths: MachinePaths = config()): MachineContainer[] {
  const ids = new Set([...listDir(statesDir(paths)), ...listDir(join(paths.home, "containers"))]);
  const found: MachineContainer[] = [];
  for (const id of ids) {
    if (!/^[0-9a-f]{64}$/.test(id)) continue;
    const c = describeContainer(paths, id);
    if (c) found.push(c);
  }
  return found.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || a.name.localeCompare(b.name));
}

/**
 * Finds a container by full id, name, or unique id prefix (as `docker` does).
 *
 * @example
 * ```ts
 * const web = findMachineContainer("web");
 * ```
 */
export function findMachineContainer(ref: string, containers: readonly MachineContainer[] = listMachineContainers()): MachineContainer {
  const exact = containers.find((c) => c.id === ref) ?? containers.find((c) => c.name === ref);
  if (exact) return exact;
  const byPrefix = /^[0-9a-f]+$/.test(ref) ? containers.filter((c) => c.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    throw new BentoError("ERR_AMBIGUOUS", `"${ref}" is the start of ${byPrefix.length} container ids (${byPrefix.map((c) => c.id.slice(0, 12)).join(", ")}); give more of the id, or the name`);
  }
  throw new BentoError("ERR_NOT_FOUND", `no container on this machine is named "${ref}" or has an id starting with it; "bento ps -a" lists them`);
}

/**
 * True once nothing runs in a container any more: its owner is gone, or its cgroups are empty
 * (it stopped, or was never started).
 *
 * @example
 * ```ts
 * while (!containerEnded(c)) await sleep(200);
 * ```
 */
export function containerEnded(c: MachineContainer, paths: MachinePaths = config()): boolean {
  if (!c.record) return true;
  if (probeLock(join(statesDir(paths), c.id, "lock")) !== "held") return true;
  return containerPids(join(statesDir(paths), c.id), c.record).length === 0;
}

/** The processes of a container: those in its cgroups, or without any (rootless), its recorded init. */
function containerPids(stateDir: string, record: StateRecord): number[] {
  return record.cgroupPaths.length > 0 ? cgroupPids(record.cgroupPaths) : recordedInitPids(stateDir);
}

function deleteFiles(paths: MachinePaths, c: MachineContainer): void {
  if (c.record) {
    for (const dir of c.record.cgroupPaths) removeCgroupDirSync(dir);
    for (const dir of c.record.removeDirs ?? []) removeTreeSync(paths.home, dir, "removed-volume");
  }
  removeTreeSync(paths.home, c.containerDir, "removed");
  rmSync(join(statesDir(paths), c.id), { recursive: true, force: true });
  releaseName(paths.runtimeDir, c.name, c.id);
}

/**
 * Removes a container and its files. A container left behind (its owner died) is removed under
 * its lock, as the sweep does. A container whose owner is alive belongs to that process: without
 * `force` this throws a BentoError with code `ERR_CONTAINER_OWNED`; with `force` its processes are killed through its cgroups and its files
 * deleted under the owner, which sees its container exit.
 *
 * @example
 * ```ts
 * const removed = await removeMachineContainer(findMachineContainer("web"), { force: true });
 * if (removed.tookFromOwner) console.log(`process ${removed.ownerPid} lost its container`);
 * ```
 */
export async function removeMachineContainer(c: MachineContainer, options: RemoveMachineContainerOptions = {}, paths: MachinePaths = config()): Promise<RemovedContainer> {
  const result = { id: c.id, name: c.name, ownerPid: c.ownerPid, tookFromOwner: false, killed: false };
  const lockFile = join(statesDir(paths), c.id, "lock");
  let fd: number | undefined;
  try {
    fd = openSync(lockFile, "r");
  } catch {
    // No runtime state: only the store directory is left.
  }
  try {
    let free = fd === undefined || loadAddon().flock(fd, "exclusive", false);
    // A detached container's helper holds the lock for a moment after it recorded the exit.
    if (!free && c.exit !== undefined) free = await takeLock(fd!, 2000);
    if (!free) {
      // Still held after its exit was recorded: the process that started it lives and holds it.
      if (!options.force && c.detached && c.exit === undefined) {
        throw new BentoError("ERR_CONTAINER_RUNNING", `container ${c.name} is running (detached); stop it first (bento stop ${c.name}), or remove it with { force: true }, which kills its processes`);
      }
      if (!options.force) {
        throw new BentoError("ERR_CONTAINER_OWNED", `container ${c.name} belongs to process ${c.ownerPid ?? "?"}, which is still running; stop it there, or remove it with { force: true }, which kills its processes`);
      }
      result.tookFromOwner = true;
    }
    const stateDir = join(statesDir(paths), c.id);
    if (c.record && c.record.cgroupPaths.length === 0 && recordedInitPids(stateDir).length > 0) {
      // No cgroup: killing init ends its PID namespace.
      result.killed = true;
      for (const pid of recordedInitPids(stateDir)) process.kill(pid, "SIGKILL");
      const end = Date.now() + 5000;
      while (recordedInitPids(stateDir).length > 0 && Date.now() < end) await sleep(20);
    }
    const pids = c.record ? cgroupPids(c.record.cgroupPaths) : [];
    if (c.record && pids.length > 0) {
      result.killed = true;
      if (!(await killCgroups(c.record.cgroupPaths))) {
        throw new BentoError("ERR_KILL_TIMEOUT", `container ${c.name}: processes ${cgroupPids(c.record.cgroupPaths).join(", ")} still run after SIGKILL; its files were kept`);
      }
    }
    // A detached container's helper ends once its container did (it writes the last log lines
    // and the exit first): delete the files after it, not under it. Its starter may hold the lock on.
    if (c.detached && result.tookFromOwner && fd !== undefined) {
      const end = Date.now() + 5000;
      while (readExitRecord(stateDir) === undefined && Date.now() < end) await sleep(20);
      result.tookFromOwner = !(await takeLock(fd, 1000));
    }
    deleteFiles(paths, c);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return result;
}

/** Takes the exclusive lock on `fd`, trying until `timeoutMs` passed; true once taken. */
async function takeLock(fd: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (loadAddon().flock(fd, "exclusive", false)) return true;
    if (Date.now() > end) return false;
    await sleep(20);
  }
}

/** What {@link sweepLeftBehind} removed. */
export interface SweptContainer {
  id: string;
  name: string;
  /** Bytes its directories took on disk (upper dir, log), measured before removal. */
  sizeBytes: number;
}

/**
 * Bytes a file or directory tree takes on disk (allocated blocks); symlinks are counted, never
 * followed. 0 when it does not exist.
 *
 * @example
 * ```ts
 * diskBytes(join(home, "volumes", "pgdata"));
 * ```
 */
export function diskBytes(path: string): number {
  let st;
  try {
    st = lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return 0;
  }
  if (!st) return 0;
  let total = st.blocks * 512;
  if (st.isDirectory()) for (const entry of listDir(path)) total += diskBytes(join(path, entry));
  return total;
}

/**
 * Removes what processes that died left behind: every container whose lock is free (as the
 * SDK's first start does, {@link sweepOrphans}, exited detached ones included), and container directories whose runtime state
 * is gone (the runtime dir is a tmpfs that a reboot empties) and that are older than a minute.
 * Returns what was removed.
 *
 * @example
 * ```ts
 * for (const c of sweepLeftBehind()) console.log(`removed ${c.name}`);
 * ```
 */
export function sweepLeftBehind(paths: MachinePaths = config()): SweptContainer[] {
  const before = new Map(
    listMachineContainers(paths)
      .filter((c) => c.status === "left-behind" || c.status === "exited")
      .map((c) => [c.id, c]),
  );
  const sizes = new Map([...before.values()].map((c) => [c.id, diskBytes(c.containerDir)]));
  const swept: SweptContainer[] = [];
  // As docker's container prune: exited detached containers go too.
  for (const id of sweepOrphans(statesDir(paths), { keepExited: false })) {
    const c = before.get(id);
    if (c) releaseName(paths.runtimeDir, c.name, id);
    swept.push({ id, name: c?.name ?? id.slice(0, 12), sizeBytes: sizes.get(id) ?? 0 });
  }
  const sweptIds = new Set(swept.map((s) => s.id));
  for (const c of before.values()) {
    if (sweptIds.has(c.id) || c.record !== undefined) continue;
    if (existsSync(join(statesDir(paths), c.id))) continue;
    if (c.createdAt !== undefined && Date.now() - c.createdAt.getTime() < createGraceMs) continue;
    removeTreeSync(paths.home, c.containerDir, "swept");
    releaseName(paths.runtimeDir, c.name, c.id);
    swept.push({ id: c.id, name: c.name, sizeBytes: sizes.get(c.id) ?? 0 });
  }
  return swept;
}
