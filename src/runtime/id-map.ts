/**
 * The id mapping of a rootless user namespace, decided from /etc/subuid and /etc/subgid as
 * podman decides it: container id 0 is the user, and ids from 1 on are the user's subordinate
 * ranges, all of them, one after another (written by the setuid helpers newuidmap/newgidmap,
 * Debian package uidmap). A range of 65536 (useradd's default) holds ids 0-65536; a larger one
 * holds more. Without a range or the helpers, the user alone is mapped to 0 (an unprivileged
 * process may write that map itself, after denying setgroups: user_namespaces(7)).
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { findExecutable } from "./executables.js";

const SYSTEM_DIRS = "/usr/bin:/usr/sbin:/bin:/sbin:/usr/local/bin";

/** `count` ids from `inside` in the namespace are `outside` ones on the host. */
export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

/** How a rootless user namespace maps its ids. */
export interface IdMapping {
  /** "subordinate": 0 is the user, 1-N the subordinate ranges; "single": only 0 (the user) exists. */
  kind: "subordinate" | "single";
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** newuidmap and newgidmap, for the subordinate kind. */
  helpers?: { newuidmap: string; newgidmap: string };
  /** Why the mapping is single, with the fix; undefined for the subordinate kind. */
  limitation?: string;
}

/**
 * The most lines a uid_map or gid_map takes (user_namespaces(7), Linux 4.15+); the user's own id
 * takes one.
 */
const MAP_LINES = 340;

/** The ranges of `/etc/subuid`-format `text` that belong to `name` or `id`, in file order. */
export function subordinateRanges(text: string, name: string, id: number): Array<{ start: number; count: number }> {
  const out: Array<{ start: number; count: number }> = [];
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (owner !== name && owner !== String(id)) continue;
    const s = Number(start),
      c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0 && s >= 0 && out.length < MAP_LINES - 1) out.push({ start: s, count: c });
  }
  return out;
}

/** Container ids 1.. onto `ranges`, one after another (podman's order: the file's). */
function fromOne(ranges: ReadonlyArray<{ start: number; count: number }>): IdRange[] {
  let inside = 1;
  return ranges.map((r) => {
    const range = { inside, outside: r.start, count: r.count };
    inside += r.count;
    return range;
  });
}

/** The highest container id `ranges` hold. */
export function highestId(ranges: readonly IdRange[]): number {
  return Math.max(...ranges.map((r) => r.inside + r.count - 1));
}

/**
 * The fix for a container id `id` beyond the map: a subordinate range large enough to hold it
 * (the user's own id is container 0, so `id` ids past it).
 */
export function widerRangeFix(name: string, id: number): string {
  const first = 100000,
    last = first + Math.max(id, 65536) - 1;
  return `give your user a subordinate range of at least ${id} ids in /etc/subuid and /etc/subgid, e.g. sudo usermod --add-subuids ${first}-${last} --add-subgids ${first}-${last} ${name} (a range no other user has), then run bento again`;
}

/** The host facts {@link chooseIdMapping} decides from (read by {@link hostIdFacts}). */
export interface HostIdFacts {
  uid: number;
  gid: number;
  name: string;
  subuid: string;
  subgid: string;
  newuidmap?: string;
  newgidmap?: string;
}

/** Decides the mapping; pure, for tests. */
export function chooseIdMapping(facts: HostIdFacts): IdMapping {
  const own = (id: number): IdRange[] => [{ inside: 0, outside: id, count: 1 }];
  const uids = subordinateRanges(facts.subuid, facts.name, facts.uid);
  const gids = subordinateRanges(facts.subgid, facts.name, facts.uid);
  if (uids.length > 0 && gids.length > 0 && facts.newuidmap && facts.newgidmap) {
    return {
      kind: "subordinate",
      uidMap: [...own(facts.uid), ...fromOne(uids)],
      gidMap: [...own(facts.gid), ...fromOne(gids)],
      helpers: { newuidmap: facts.newuidmap, newgidmap: facts.newgidmap },
    };
  }
  const limitation =
    uids.length === 0 || gids.length === 0
      ? `user ${facts.name} has no subordinate id range in /etc/subuid and /etc/subgid; add one with: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${facts.name}`
      : "newuidmap and newgidmap are not installed; install them (Debian: apt-get install uidmap)";
  return { kind: "single", uidMap: own(facts.uid), gidMap: own(facts.gid), limitation };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Reads this process's user and the machine's subordinate ranges and helpers. */
export function hostIdFacts(): HostIdFacts {
  const uid = process.getuid?.() ?? 0,
    gid = process.getgid?.() ?? 0;
  let name = String(uid);
  try {
    name = userInfo().username;
  } catch {
    // a uid without a passwd entry matches /etc/subuid by number
  }
  // The setuid helpers in the system's own directories, not wherever PATH points.
  const newuidmap = findExecutable("newuidmap", SYSTEM_DIRS),
    newgidmap = findExecutable("newgidmap", SYSTEM_DIRS);
  return {
    uid,
    gid,
    name,
    subuid: readOrEmpty("/etc/subuid"),
    subgid: readOrEmpty("/etc/subgid"),
    ...(newuidmap ? { newuidmap } : {}),
    ...(newgidmap ? { newgidmap } : {}),
  };
}

/** The map file text of `ranges` (uid_map, gid_map: "inside outside count" lines). */
export function mapText(ranges: readonly IdRange[]): string {
  return ranges.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join("");
}
