/**
 * Turns a container's mounts into runtime mounts: named volumes are created when missing (as
 * Docker does), the image's VOLUME paths that no mount covers get anonymous volumes, and a new
 * or empty volume mounted on a non-empty image path is filled from the image first (as Docker
 * does). Volumes become binds of their data directories.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cryptoModule } from "../deps.js";
import { InvalidOptionError } from "../errors.js";
import type { RuntimeMount } from "../runtime/container-plan.js";
import { OwnerChanges, stageAsNamespaceRoot } from "../runtime/rootless-owner.js";
import { resolveUser } from "../runtime/user.js";
import { isRootless, onlyRootMapped } from "../runtime/user-namespace.js";
import { ensureVolume, volumeDataDir, volumeDir } from "../volume/volume-store.js";
import { copyMergedTree, resolveMerged } from "./merged-view.js";
import type { NormalizedMount } from "./mounts.js";

/** The runtime mounts, and the volumes a container uses (for in-use checks and removal). */
export interface ResolvedMounts {
  mounts: RuntimeMount[];
  volumes: string[];
  /** Volumes made for this container only; removed with it. */
  anonymous: string[];
  /** Files to write (as `files/<n>` of the container's directory) before the container starts. */
  files: { name: string; target: string; content: Uint8Array; mode: number; uid?: number; gid?: number }[];
}

async function fillFromImage(layers: readonly string[], target: string, name: string): Promise<void> {
  const data = volumeDataDir(name);
  if (readdirSync(data).length > 0) return;
  // Copy into a fresh directory, then swap it in: the copy keeps the image dir's owner and mode.
  const tmp = `${data}.fill-${process.pid}`;
  // The image's symlinks are followed inside the image, never on the host (`VOLUME /e/etc` with
  // /e -> / fills from the image's /etc).
  const from = resolveMerged(layers, target, true);
  // Rootless, files of the image's other users (subordinate ids) may not be the user's to read:
  // root of the user namespace copies them, owners kept.
  const owners = new OwnerChanges(dirname(tmp));
  const filled = isRootless() ? await stageAsNamespaceRoot(layers, from, tmp, true) : copyMergedTree(layers, from, tmp, owners);
  if (filled) {
    await owners.apply();
    rmSync(data, { recursive: true, force: true });
    renameSync(tmp, data);
  }
}

/** Resolves mounts for a container whose image has `imageVolumes` (its config's Volumes). */
export async function resolveMounts(mounts: readonly NormalizedMount[], imageVolumes: readonly string[], layers: readonly string[], containerDir: string): Promise<ResolvedMounts> {
  const out: ResolvedMounts = { mounts: [], volumes: [], anonymous: [], files: [] };
  const covered = new Set(mounts.map((m) => m.target));
  const volumeMount = async (name: string, target: string, readonly: boolean, anonymous: boolean) => {
    ensureVolume(name, {}, anonymous);
    await fillFromImage(layers, target, name);
    out.volumes.push(name);
    if (anonymous) out.anonymous.push(name);
    out.mounts.push({ kind: "bind", source: volumeDataDir(name), target, readonly, isFile: false });
  };
  for (const path of imageVolumes) {
    const target = path.replace(/\/+$/, "") || "/";
    if (!covered.has(target)) await volumeMount(cryptoModule().randomBytes(32).toString("hex"), target, false, true);
  }
  for (const m of mounts) {
    if (m.kind === "volume") await volumeMount(m.name, m.target, m.readonly, false);
    else if (m.kind === "file") {
      const name = join("files", String(out.files.length));
      out.files.push({ name, target: m.target, content: m.content, mode: m.mode, ...(m.uid === undefined ? {} : { uid: m.uid }), ...(m.gid === undefined ? {} : { gid: m.gid }) });
      out.mounts.push({ kind: "bind", source: join(containerDir, name), target: m.target, readonly: true, isFile: true });
    } else if (m.kind === "tmpfs") out.mounts.push({ kind: "tmpfs", target: m.target, options: m.owner === undefined ? m.options : `${m.options},${tmpfsOwner(m.owner, m.target, layers)}`, readonly: m.readonly });
    else out.mounts.push({ kind: "bind", source: m.source, target: m.target, readonly: m.readonly, isFile: m.isFile });
  }
  return out;
}

/** A tmpfs owner ("user[:group]" of the image) as mount options: the ids inside the container. */
function tmpfsOwner(owner: string, target: string, layers: readonly string[]): string {
  try {
    const { uid, gid } = resolveUser(owner, layers);
    onlyRootMapped(`the owner of tmpfs ${target}`, { uid, gid });
    return `uid=${uid},gid=${gid}`;
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new InvalidOptionError(`mounts (tmpfs ${target}).owner`, error.message.replace(/^[^:]*: /, ""));
    throw error;
  }
}

/** Deletes a container's anonymous volumes. */
export function removeAnonymousVolumes(names: readonly string[]): void {
  for (const name of names) rmSync(volumeDir(name), { recursive: true, force: true });
}

/**
 * Writes the files of `content` mounts into the container's directory, owned by their uid/gid
 * (default the container's user) with their mode (rootless, the owners are set last, from inside
 * the user namespace, which keeps the set-id bits).
 */
export async function writeMountedFiles(containerDir: string, files: ResolvedMounts["files"], user: { uid: number; gid: number }): Promise<void> {
  if (files.length === 0) return;
  mkdirSync(join(containerDir, "files"), { mode: 0o700 });
  const owners = new OwnerChanges(containerDir);
  for (const f of files) {
    const file = join(containerDir, f.name);
    writeFileSync(file, f.content, { mode: 0o600 });
    owners.set(file, { uid: f.uid ?? user.uid, gid: f.gid ?? user.gid }, `file mount ${f.target}`);
    chmodSync(file, f.mode); // after chown as root, which clears set-id bits
  }
  await owners.apply();
}
