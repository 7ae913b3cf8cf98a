/**
 * Rootless: the one user namespace this process's containers, execs, networks and removals
 * live in (DESIGN section 11). It is created on first need by bento-shim's "userns" role, which
 * unshares it and waits; this module writes its id maps (newuidmap/newgidmap for a subordinate
 * range, else the single mapping directly), then every other helper joins it by the holder's
 * pid before it creates its namespaces, so they all have one owner (what lets a network move a
 * veth into a container's namespace). The holder dies with this process (PR_SET_PDEATHSIG).
 */
import { writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { childProcessModule } from "../deps.js";
import { BentoError, HostUnsupportedError } from "../errors.js";
import { HelperProcess, type HelperEvent } from "../native/helper-process.js";
import { chooseIdMapping, highestId, hostIdFacts, type IdMapping, type IdRange, mapText, widerRangeFix } from "./id-map.js";

export { hostIdFacts };

const run = (file: string, argv: string[]) => promisify(childProcessModule().execFile)(file, argv);

/** A ready user namespace. */
export interface UserNamespace {
  /** The pid of the process that holds it (helpers join it through a pidfd of this pid). */
  holderPid: number;
  mapping: IdMapping;
}

let current: Promise<UserNamespace> | undefined;
let mappingCache: IdMapping | undefined;
let noticed = false;

/** True when this process is not root: containers then run in a user namespace. */
export function isRootless(): boolean {
  return (process.geteuid?.() ?? 0) !== 0;
}

/** The id mapping this process's user namespace uses (decided once). */
export function idMapping(): IdMapping {
  mappingCache ??= chooseIdMapping(hostIdFacts());
  return mappingCache;
}

/**
 * Throws, naming `what` and the fix, when `user` cannot exist in this process's containers:
 * rootless, only the ids of the user namespace's map do, and the kernel would refuse any other
 * later with a bare EINVAL from setresuid/setresgid/setgroups. Returns true when the map holds
 * only id 0, so supplementary groups must stay off (setgroups is denied there).
 */
export function onlyRootMapped(what: string, user: { uid: number; gid: number; groups?: readonly number[] }): boolean {
  if (!isRootless()) return false;
  const mapping = idMapping();
  if (mapping.kind === "single") {
    if (user.uid !== 0 || user.gid !== 0) {
      throw new HostUnsupportedError(`${what} ${user.uid}:${user.gid}: rootless without a subordinate id range only id 0 exists in a container; run it as root (user: "0") or give the user a range: ${mapping.limitation}`);
    }
    return true;
  }
  const unmapped = [...unmappedIds([user.uid], mapping.uidMap), ...unmappedIds([user.gid, ...(user.groups ?? [])], mapping.gidMap)];
  if (unmapped.length > 0) {
    throw new HostUnsupportedError(
      `${what} ${user.uid}:${user.gid}${user.groups?.some((g) => g !== user.gid) ? ` (groups ${user.groups.join(",")})` : ""}: rootless, a container holds only ids ${heldIds(mapping)} (you and your range in /etc/subuid and /etc/subgid); use an id in it, or ${widerRangeFix(hostIdFacts().name, Math.max(...unmapped))}`,
    );
  }
  return false;
}

/** Those of `ids` that `ranges` (a map, container side) do not hold. */
export function unmappedIds(ids: readonly number[], ranges: readonly IdRange[]): number[] {
  return ids.filter((id) => !ranges.some((r) => id >= r.inside && id < r.inside + r.count));
}

/** The container ids both maps of `mapping` hold, for messages: "0..65536". */
export function heldIds(mapping: IdMapping): string {
  return `0..${Math.min(highestId(mapping.uidMap), highestId(mapping.gidMap))}`;
}

/** The user namespace of this process, created on first call; only when {@link isRootless}. */
export function userNamespace(): Promise<UserNamespace> {
  current ??= createUserNamespace();
  current.catch(() => {
    current = undefined;
  });
  return current;
}

/**
 * Makes this process's helpers join the user namespace `holderPid` holds (a network keeper's)
 * instead of creating their own: a network links only containers of its own user namespace.
 * Throws when this process made or joined another one already.
 */
export function joinUserNamespaceOf(holderPid: number, whose: string): void {
  if (current !== undefined) throw new BentoError("ERR_USERNS", `rootless: cannot join the user namespace of ${whose}: this process already has its own`);
  current = Promise.resolve({ holderPid, mapping: idMapping() });
}

/** The fix for a machine whose kernel refuses unprivileged user namespaces. */
export const USERNS_FIX = "enable unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (Debian) and user.max_user_namespaces=28633, and on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0; or run as root";

async function createUserNamespace(): Promise<UserNamespace> {
  const mapping = idMapping();
  const helper = HelperProcess.start({ role: "userns", plan: [], stdio: ["null", "null", "null"] });
  const fail = (message: string, cause?: unknown): never => {
    helper.close();
    throw new HostUnsupportedError(message, cause === undefined ? {} : { cause });
  };
  const spawned = await helper.waitFor((e) => e.event === "spawned" || e.event === "error" || e.event === "fatal");
  if (spawned?.event !== "spawned" || spawned.pid === undefined) {
    fail(`rootless: cannot create a user namespace (${spawned?.syscall ?? "helper"}: ${spawned?.errno !== undefined ? `errno ${spawned.errno}` : (spawned?.message ?? "it exited")}); ${USERNS_FIX}`);
  }
  const pid = spawned!.pid!;
  try {
    if (mapping.kind === "subordinate") {
      const args = (ranges: IdMapping["uidMap"]) => [String(pid), ...ranges.flatMap((r) => [String(r.inside), String(r.outside), String(r.count)])];
      await run(mapping.helpers!.newuidmap, args(mapping.uidMap));
      await run(mapping.helpers!.newgidmap, args(mapping.gidMap));
    } else {
      writeFileSync(`/proc/${pid}/setgroups`, "deny");
      writeFileSync(`/proc/${pid}/uid_map`, mapText(mapping.uidMap));
      writeFileSync(`/proc/${pid}/gid_map`, mapText(mapping.gidMap));
    }
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    fail(`rootless: cannot write the id maps of the user namespace: ${detail}; check /etc/subuid and /etc/subgid, and that newuidmap and newgidmap are setuid root (Debian package uidmap)`, error);
  }
  helper.send("mapped\n");
  const ready = await helper.waitFor((e) => e.event === "ready" || e.event === "error");
  if (ready?.event !== "ready") fail("rootless: the user namespace holder exited before it was ready");
  if (mapping.kind === "single" && !noticed) {
    noticed = true;
    process.stderr.write(`bento: rootless with only your own id mapped (container root); files of other owners in images become root's and other container users cannot exist: ${mapping.limitation}\n`);
  }
  return { holderPid: pid, mapping };
}

/**
 * Runs `ops` through bento-shim's `role` ("remove", "owners") as root of this process's user
 * namespace, where files of container users (subordinate ids) are its root's. Resolves with the
 * helper's failure event, or undefined when every op was carried out.
 */
export async function runAsNamespaceRoot(role: "remove" | "owners", ops: readonly string[][]): Promise<HelperEvent | undefined> {
  const ns = await userNamespace();
  const plan = [["section", "settings"], ["userns", String(ns.holderPid)], ...ops];
  const helper = HelperProcess.start({ role, plan, stdio: ["null", "null", "null"] });
  const done = await helper.waitFor((e) => e.event === "ready" || e.event === "error" || e.event === "fatal");
  void helper.exited().then(() => helper.close());
  return done?.event === "ready" ? undefined : (done ?? { event: "fatal" });
}

/**
 * Deletes trees that container users created (owned by subordinate ids, which this user may
 * not delete): a helper joins the user namespace, where they are its root's to delete.
 */
export async function removeAsNamespaceRoot(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const failed = await runAsNamespaceRoot(
    "remove",
    paths.map((p) => ["remove", p]),
  );
  if (failed) throw new BentoError("ERR_REMOVE", `remove ${failed.path ?? paths.join(", ")}: ${failed.syscall ?? "helper"} failed (errno ${failed.errno ?? "?"})`);
}
