/**
 * The unprivileged user the rootless rows run as (the bench itself runs as root): created when
 * missing, as .ci/rootless does (useradd + a 65536-id range in /etc/subuid and /etc/subgid), and
 * given its own directory under the bench's temp dir for its store, state, podman storage and a
 * copy of the rootfs. Whatever this run added (user, id ranges, directory) is removed at the end.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** A dedicated name, so a bench run never touches the user the CI's rootless suite runs as. */
export const benchUserName = "bento-bench";

const idFiles = ["/etc/subuid", "/etc/subgid"];
const rangeSize = 65536;

/** The user and what this run created for it. */
export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  /** Owned by the user: home, store, state, XDG dirs and the rootfs copies. */
  dir: string;
  /** The user's own copy of the bench rootfs (the rows under test run it). */
  rootfs: string;
  /** podman's copy: `podman run --rootfs` writes /etc files into the tree it is given. */
  podmanRootfs: string;
  createdUser: boolean;
  /** The first id of the range this run added to /etc/subuid and /etc/subgid, if it added one. */
  addedRange?: number;
}

function idOf(name: string, flag: "-u" | "-g"): number | undefined {
  try {
    return Number(execFileSync("id", [flag, name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    return undefined;
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** The first id above every range of either file, so the new range overlaps none. */
function freeRangeStart(): number {
  let end = 100000;
  for (const file of idFiles) {
    for (const line of readLines(file)) {
      const [, start, count] = line.split(":");
      end = Math.max(end, Number(start) + Number(count));
    }
  }
  return end;
}

function hasRange(name: string): boolean {
  return idFiles.every((file) => readLines(file).some((l) => l.startsWith(`${name}:`)));
}

/** usermod edits /etc/subuid and /etc/subgid under their lock, so a concurrent edit is not lost. */
function changeRange(name: string, action: "add" | "del", start: number): void {
  const range = `${start}-${start + rangeSize - 1}`;
  execFileSync("usermod", [`--${action}-subuids`, range, `--${action}-subgids`, range, name], { stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * Creates (or reuses) the bench user and its directory `dir` inside `tempDir`. The temp dir is
 * opened to traversal (0711) so the user reaches its own directory; the rest stays root's.
 */
export function prepareRootlessUser(tempDir: string, rootfs: string): RootlessUser {
  const name = benchUserName;
  let createdUser = false;
  if (idOf(name, "-u") === undefined) {
    // No home: the rows get HOME in their own directory, so nothing outside the temp dir is made.
    execFileSync("useradd", ["--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name], { stdio: ["ignore", "ignore", "pipe"] });
    createdUser = true;
  }
  const uid = idOf(name, "-u")!;
  const gid = idOf(name, "-g")!;
  let addedRange: number | undefined;
  if (!hasRange(name)) {
    addedRange = freeRangeStart();
    changeRange(name, "add", addedRange);
  }
  chmodSync(tempDir, 0o711);
  const dir = join(tempDir, "rootless");
  const user: RootlessUser = { name, uid, gid, dir, rootfs: join(dir, "rootfs"), podmanRootfs: join(dir, "podman-rootfs"), createdUser, ...(addedRange === undefined ? {} : { addedRange }) };
  for (const sub of ["", "home", "run", "tmp", "xdg-run", "rootfs", "podman-rootfs"]) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  for (const copy of [user.rootfs, user.podmanRootfs]) cpSync(rootfs, copy, { recursive: true, verbatimSymlinks: true });
  // The user owns every file of its copies, so inside its user namespace they are container root's.
  execFileSync("chown", ["-R", `${uid}:${gid}`, dir]);
  chownSync(dir, uid, gid);
  return user;
}

/** podman's lock file for the user's containers, in /dev/shm: it outlives podman. */
const podmanLockFile = (user: RootlessUser) => `/dev/shm/libpod_rootless_lock_${user.uid}`;

/** Removes what prepareRootlessUser and the rows made: directory and podman's lock file always, the user and ranges if this run added them. */
export function removeRootlessUser(user: RootlessUser): void {
  rmSync(user.dir, { recursive: true, force: true });
  rmSync(podmanLockFile(user), { force: true });
  try {
    if (user.addedRange !== undefined) changeRange(user.name, "del", user.addedRange);
    if (user.createdUser) execFileSync("userdel", [user.name], { stdio: ["ignore", "ignore", "pipe"] });
  } catch {
    // reported by the leak check, which looks for the user and its range afterwards
  }
}

/** What of the user's setup is left after removeRootlessUser, for the leak check. */
export function rootlessLeftovers(user: RootlessUser): string[] {
  const left: string[] = [];
  if (user.createdUser && idOf(user.name, "-u") !== undefined) left.push(`user ${user.name}`);
  // useradd may have given a created user a range of its own; userdel removes that one too.
  const ours = user.createdUser ? `${user.name}:` : `${user.name}:${user.addedRange}:`;
  if (user.createdUser || user.addedRange !== undefined) for (const file of idFiles) if (readLines(file).some((l) => l.startsWith(ours))) left.push(`${file} range of ${user.name}`);
  if (existsSync(podmanLockFile(user))) left.push(`file ${podmanLockFile(user)}`);
  for (const line of execFileSync("ps", ["-e", "-o", "pid=,uid=,stat=,args="], { encoding: "utf8" }).split("\n")) {
    const [pid, uid, stat, ...args] = line.trim().split(/\s+/);
    // A zombie has exited and freed everything; only its parent's (often init's) reaping is left.
    if (Number(uid) === user.uid && pid !== undefined && !stat?.startsWith("Z")) left.push(`process ${pid} of ${user.name}: ${args.join(" ")}`);
  }
  return left;
}
