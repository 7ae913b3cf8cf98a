/**
 * The id mapping of a rootless user namespace, decided from /etc/subuid and /etc/subgid as
 * podman decides it: container id 0 is the user, and ids 1 to 65536 are the user's subordinate
 * range (written by the setuid helpers newuidmap/newgidmap, Debian package uidmap). Without a
 * range or the helpers, the user alone is mapped to 0 (an unprivileged process may write that
 * map itself, after denying setgroups: user_namespaces(7)).
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";

/** `count` ids from `inside` in the namespace are `outside` ones on the host. */
export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

/** How a rootless user namespace maps its ids. */
export interface IdMapping {
  /** "subordinate": 0 is the user, 1-65536 a subordinate range; "single": only 0 (the user) exists. */
  kind: "subordinate" | "single";
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** newuidmap and newgidmap, for the subordinate kind. */
  helpers?: { newuidmap: string; newgidmap: string };
  /** Why the mapping is single, with the fix; undefined for the subordinate kind. */
  limitation?: string;
}

/** The most ids a container namespace maps besides root (podman's default size). */
export const SUBORDINATE_IDS = 65536;

/** The first range of `/etc/subuid`-format `text` that belongs to `name` or `id`. */
export function subordinateRange(text: string, name: string, id: number): { start: number; count: number } | undefined {
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (owner !== name && owner !== String(id)) continue;
    const s = Number(start),
      c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) return { start: s, count: Math.min(c, SUBORDINATE_IDS) };
  }
  return undefined;
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
  const uids = subordinateRange(facts.subuid, facts.name, facts.uid);
  const gids = subordinateRange(facts.subgid, facts.name, facts.uid);
  if (uids && gids && facts.newuidmap && facts.newgidmap) {
    return {
      kind: "subordinate",
      uidMap: [...own(facts.uid), { inside: 1, outside: uids.start, count: uids.count }],
      gidMap: [...own(facts.gid), { inside: 1, outside: gids.start, count: gids.count }],
      helpers: { newuidmap: facts.newuidmap, newgidmap: facts.newgidmap },
    };
  }
  const limitation =
    !uids || !gids
      ? `user ${facts.name} has no subordinate id range in /etc/subuid and /etc/subgid; add one with: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${facts.name}`
      : "newuidmap and newgidmap are not installed; install them (Debian: apt-get install uidmap)";
  return { kind: "single", uidMap: own(facts.uid), gidMap: own(facts.gid), limitation };
}

function findExecutable(name: string): string | undefined {
  for (const dir of ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
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
  const newuidmap = findExecutable("newuidmap"),
    newgidmap = findExecutable("newgidmap");
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
