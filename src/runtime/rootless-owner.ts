/**
 * Setting owners of files bento writes (secrets, copyTo, COPY --chown). Root sets any owner at
 * once. Rootless, Node writes files as the user (container root) and cannot give them away:
 * the owners are collected and handed to bento-shim's "owners" role, which joins this process's
 * user namespace and sets them there, as container ids the namespace's map turns into the
 * user's subordinate ids. Without a subordinate range only root's exists, and any other owner
 * is refused with the way out.
 */
import { lchownSync, lstatSync, readFileSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { BentoError, HostUnsupportedError } from "../errors.js";
import { installLayerOwners } from "../store/layer-owners.js";
import { type IdRange, widerRangeFix } from "./id-map.js";
import { heldIds, hostIdFacts, idMapping, isRootless, onlyRootMapped, removeAsNamespaceRoot, runAsNamespaceRoot, unmappedIds } from "./user-namespace.js";

const { ENOENT, ENOTDIR } = constants.errno;

/** A file owner as the container sees it. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * The owner a file of the host has in a container: rootless, the user's ids are root's and the
 * subordinate ranges are 1-N; as root, the same ids. Host ids outside the map become root's (the
 * user owns the copy bento makes of them).
 */
export function containerOwnerOf(host: Owner): Owner {
  if (!isRootless()) return { uid: host.uid, gid: host.gid };
  const mapping = idMapping();
  const inside = (id: number, ranges: readonly IdRange[]) => {
    const range = ranges.find((r) => id >= r.outside && id < r.outside + r.count);
    return range === undefined ? 0 : range.inside + (id - range.outside);
  };
  return { uid: inside(host.uid, mapping.uidMap), gid: inside(host.gid, mapping.gidMap) };
}

/** Owners given to files under one directory, the last step once they are written. */
export class OwnerChanges {
  /** By path relative to the root: a path written again (a later source, a later archive entry) takes its last owner. */
  readonly #pending = new Map<string, Owner>();
  readonly #capabilities: Array<{ rel: string; value: Buffer }> = [];

  /** `root`: the directory every path lies in; rootless, paths are resolved inside it. */
  constructor(readonly root: string) {}

  /**
   * Gives `path` the container owner `owner`: as root at once, rootless when {@link apply} runs
   * (after the caller set the mode: the helper keeps setuid and setgid bits). Throws, naming
   * `what` and the fix, for an owner the user namespace does not hold.
   */
  set(path: string, owner: Owner, what: string): void {
    if (!isRootless()) return lchownSync(path, owner.uid, owner.gid);
    const rel = this.#relative(path);
    // Root's is the user's, as written; an earlier owner of a path written again must not stay.
    if (owner.uid === 0 && owner.gid === 0) return void this.#pending.delete(rel);
    onlyRootMapped(`${what}: owner`, owner);
    this.#pending.set(rel, owner);
  }

  /**
   * Rootless: gives the regular file `path` the file capability `value` (v2, as a layer carries
   * it) when {@link apply} runs, after the owners (chown clears it). The namespace's root writes
   * it, so the kernel stores it as v3 with that root's id: it holds in this user namespace's
   * containers, as a layer's v2 value holds in root's.
   */
  setCapability(path: string, value: Buffer): void {
    this.#capabilities.push({ rel: this.#relative(path), value });
  }

  #relative(path: string): string {
    const rel = relative(this.root, path);
    if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`OwnerChanges: "${path}" is not under "${this.root}"`);
    return rel;
  }

  /** Rootless: sets the collected owners, then capabilities, from inside the user namespace. */
  async apply(): Promise<void> {
    // A path removed after its owner was noted (a later source or archive entry replaced a
    // directory holding it) has nothing left to own.
    const pending = [...this.#pending].filter(([rel]) => exists(join(this.root, rel)));
    this.#pending.clear();
    const capabilities = this.#capabilities.splice(0);
    if (pending.length === 0 && capabilities.length === 0) return;
    await asNamespaceRoot(`set owners under ${this.root}`, [
      ...pending.map(([rel, owner]) => ["lchown", this.root, rel || ".", String(owner.uid), String(owner.gid)]),
      ...capabilities.map((c) => ["setcap", this.root, c.rel, c.value.toString("hex")]),
    ]);
  }
}

// False only when nothing is at `path` any more; any other failure is the helper's to report.
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== "ENOENT" && code !== "ENOTDIR";
  }
}

/** Runs ops of bento-shim's "owners" role as root of this process's user namespace. */
async function asNamespaceRoot(what: string, ops: string[][]): Promise<void> {
  const failed = await runAsNamespaceRoot("owners", ops);
  if (failed) throw new BentoError("ERR_OWNER", `${what}: ${failed.syscall ?? "helper"} ${failed.path ?? ""} failed (errno ${failed.errno ?? "?"}${failed.message ? `: ${failed.message}` : ""})`);
}

/**
 * Rootless: copies the tree `from` into the existing directory `to` as root of the user
 * namespace, so files that container users made (which the user may not read) are copied with
 * their owners, modes and xattrs.
 */
export async function copyAsNamespaceRoot(from: string, to: string): Promise<void> {
  await asNamespaceRoot(`copy ${from}`, [["copy", from, to]]);
}

/**
 * Rootless: copies what `path` names in the view of `dirs` (a stopped container's upper dir and
 * image layers top-first, seen as overlay shows them; or one directory, such as a volume) to the
 * new path `to`, as root of the user namespace, which may read files that container users made.
 * `path` is resolved inside the view as the container would (a symlink never leads out of it),
 * its last name not followed. The copy keeps modes and times; its owners are the user's, or with
 * `keepOwners` the container's. Resolves false when `path` does not exist.
 */
export async function stageAsNamespaceRoot(dirs: readonly string[], path: string, to: string, keepOwners: boolean): Promise<boolean> {
  const failed = await runAsNamespaceRoot("owners", [["stage", to, keepOwners ? "keep" : "take", path, ...dirs]]);
  if (failed === undefined) return true;
  // A missing name, or one that is not a directory where the path goes on: not there.
  if ((failed.errno === ENOENT || failed.errno === ENOTDIR) && (failed.syscall === "openat2" || failed.syscall === "fstatat")) return false;
  throw new BentoError("ERR_OWNER", `copy ${path}: ${failed.syscall ?? "helper"} ${failed.path ?? ""} failed (errno ${failed.errno ?? "?"}${failed.message ? `: ${failed.message}` : ""})`);
}

/** What an entry of a taken tree had before (see {@link takeTree}). */
export interface TakenEntry {
  uid: number;
  gid: number;
  mode: number;
  /** Its `security.capability` in the v2 form a layer carries (root id-free), if it had one. */
  capability?: Buffer;
}

/**
 * Rootless: copies the staged tree `staged` (owners already the container's) to `path` of a
 * stopped container whose overlay is `upper`, `work` and `lowers` (top first), as root of the
 * user namespace through a writable overlay of them, so directories of other container users
 * (mode 0700, say) are written as the container would write them. `path` is resolved inside the
 * container (missing parents made); `into`: an existing directory there gets the tree under its
 * own name, as `docker cp` does.
 */
export async function putAsNamespaceRoot(staged: string, path: string, into: boolean, upper: string, work: string, lowers: readonly string[]): Promise<void> {
  await asNamespaceRoot(`copy to ${path}`, [["put", staged, path, into ? "into" : "as", upper, work, ...lowers]]);
}

/**
 * Rootless: makes the tree under `dir` the user's and readable by them (bento's own copy, or an
 * upper dir about to be deleted), and returns what each entry had before: owner (container ids),
 * mode and file capability, by path relative to `dir`, for the layer to record. The capability
 * is read as the namespace's root reads it: the kernel turns the v3 value a container's root
 * wrote (its root id the user's uid) into v2; on the host it reads v3, valid only in this
 * namespace, and chown clears it. `manifest`: a new file's path.
 */
export async function takeTree(dir: string, manifest: string): Promise<Map<string, TakenEntry>> {
  try {
    await asNamespaceRoot(`read ${dir}`, [["take", dir, manifest]]);
    const fields = readFileSync(manifest, "utf8").split("\0");
    const out = new Map<string, TakenEntry>();
    for (let i = 0; i + 4 < fields.length; i += 5) {
      const capability = fields[i + 4]!;
      out.set(fields[i]!, { uid: Number(fields[i + 1]), gid: Number(fields[i + 2]), mode: Number(fields[i + 3]), ...(capability ? { capability: Buffer.from(capability, "hex") } : {}) });
    }
    return out;
  } finally {
    rmSync(manifest, { force: true });
  }
}

// Rootless, unpacked image layers keep their owners and file capabilities, set from inside the
// user namespace. With a subordinate range, an owner the map does not hold is refused, naming
// the file and the fix (as podman refuses it: its lchown fails with EINVAL), rather than
// silently made root's. Without one, every file is root's (the one-line notice of
// user-namespace.ts says so); capabilities are still kept.
if (isRootless()) {
  installLayerOwners((root) => {
    const changes = new OwnerChanges(root);
    const mapping = idMapping();
    return {
      set: (path, uid, gid) => {
        if (mapping.kind === "single") return;
        const unmapped = [...unmappedIds([uid], mapping.uidMap), ...unmappedIds([gid], mapping.gidMap)];
        if (unmapped.length > 0) {
          throw new HostUnsupportedError(
            `image file /${relative(root, path)} is owned by ${uid}:${gid}, but rootless a container holds only ids ${heldIds(mapping)} (you and your range in /etc/subuid and /etc/subgid); ${widerRangeFix(hostIdFacts().name, Math.max(...unmapped))}`,
          );
        }
        changes.set(path, { uid, gid }, `unpack ${path}`);
      },
      setCapability: (path, value) => changes.setCapability(path, value),
      apply: () => changes.apply(),
    };
  }, removeAsNamespaceRoot);
}
