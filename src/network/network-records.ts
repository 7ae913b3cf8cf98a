/**
 * Named networks that outlive the command that made them (`bento network create`): each is held
 * by a keeper process and recorded in BENTO_RUNTIME_DIR/networks/NAME/, where other processes
 * find it: network.json (what docker's inspect shows, the keeper's pid and, rootless, the pid
 * holding its user namespace), members.json (the containers on it, which the keeper rewrites),
 * control.sock (how a container joins it) and a lock the keeper holds for as long as it lives.
 * A record whose lock is free was left by a keeper that died; its network died with it (the
 * network helper dies with its parent), so only the files remain, and they are removed on sight.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../config.js";
import { BentoError, InvalidOptionError } from "../errors.js";
import { loadAddon } from "../native/load.js";
import { probeLock } from "../runtime/container-processes.js";

/** A named network, as network.json records it. */
export interface NetworkRecord {
  name: string;
  /** 64 hex digits. */
  id: string;
  /** ISO 8601. */
  created: string;
  subnet: string;
  gateway: string;
  labels: Record<string, string>;
  /** The process that holds the network. */
  keeperPid: number;
  /** Rootless: the process holding the keeper's user namespace, which members must join. */
  userNamespaceHolderPid?: number;
}

/** A container on a named network, as members.json records it. */
export interface NetworkMember {
  id: string;
  name: string;
  /** Its address, with the prefix length (10.89.0.2/24). */
  address: string;
  /** The host pid of its init and that process's start time: it is on the network while both match. */
  initPid: number;
  initStartTime: string;
}

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function networksDir(): string {
  return join(config().runtimeDir, "networks");
}

/** The directory of network `name`'s record. */
export function networkDir(name: string): string {
  return join(networksDir(), name);
}

/** The control socket of network `name`'s keeper. */
export function controlSocket(name: string): string {
  return join(networkDir(name), "control.sock");
}

/** Throws unless `name` can name a network. */
export function checkNetworkName(name: string): void {
  if (!namePattern.test(name) || name.length > 64) {
    throw new InvalidOptionError("network", `"${name}" is not a network name: use up to 64 letters, digits, "_", "." and "-", starting with a letter or digit`);
  }
}

function alive(dir: string): boolean {
  return probeLock(join(dir, "lock")) === "held";
}

/**
 * Makes the record directory of a new network and takes its lock (the returned fd; the keeper
 * keeps it open). Throws when a live network has the name already.
 */
export function claimNetworkDir(name: string): number {
  checkNetworkName(name);
  mkdirSync(networksDir(), { recursive: true, mode: 0o700 });
  const dir = networkDir(name);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // A record without a live keeper, or one still being made (no lock file yet, for a moment).
    if (alive(dir) || readRecordFile(dir) === undefined) throw new BentoError("ERR_NETWORK_EXISTS", `network with name ${name} already exists; remove it first (bento network rm ${name}) or choose another name`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
  }
  const fd = openSync(join(dir, "lock"), "w", 0o600);
  loadAddon().flock(fd, "exclusive", false);
  return fd;
}

function readRecordFile(dir: string): NetworkRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "network.json"), "utf8")) as NetworkRecord;
  } catch {
    return undefined;
  }
}

/** Readers see the old file or the new one, never half of one. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** Writes network.json: from then on other processes find the network. */
export function writeNetworkRecord(record: NetworkRecord): void {
  writeAtomically(join(networkDir(record.name), "network.json"), JSON.stringify(record));
}

/** The live network named `name`, or undefined; the files of a dead keeper's network are removed. */
export function readNetworkRecord(name: string): NetworkRecord | undefined {
  if (!namePattern.test(name)) return undefined;
  const dir = networkDir(name);
  const record = readRecordFile(dir);
  if (record === undefined) return undefined;
  if (!alive(dir)) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return record;
}

/** The live network named `name`; throws naming it and `bento network ls` when there is none. */
export function findNetwork(name: string): NetworkRecord {
  const record = readNetworkRecord(name);
  if (record === undefined) throw new BentoError("ERR_NOT_FOUND", `network ${name} not found; "bento network ls" lists the networks, "bento network create ${name}" makes it`);
  return record;
}

/** Every live named network, by name. */
export function listNetworkRecords(): NetworkRecord[] {
  let names: string[];
  try {
    names = readdirSync(networksDir());
  } catch {
    return [];
  }
  return names
    .map(readNetworkRecord)
    .filter((r): r is NetworkRecord => r !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The start time of process `pid` (field 22 of /proc/PID/stat), or undefined once it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** True while a member's container runs (its init is the process that joined). */
export function memberRuns(member: NetworkMember): boolean {
  return processStartTime(member.initPid) === member.initStartTime;
}

/** The containers on network `name` whose init still runs. */
export function networkMembers(name: string): NetworkMember[] {
  try {
    const members = JSON.parse(readFileSync(join(networkDir(name), "members.json"), "utf8")) as NetworkMember[];
    return members.filter(memberRuns);
  } catch {
    return [];
  }
}

/** Rewrites members.json (only the keeper does). */
export function writeNetworkMembers(name: string, members: readonly NetworkMember[]): void {
  writeAtomically(join(networkDir(name), "members.json"), JSON.stringify(members));
}

/** Releases a claim that never became a network (its keeper failed to start it). */
export function dropNetworkDir(name: string, lockFd: number): void {
  rmSync(networkDir(name), { recursive: true, force: true });
  closeSync(lockFd);
}
