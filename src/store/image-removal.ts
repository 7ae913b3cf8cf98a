/**
 * Removing images (`docker rmi`, `docker image prune`): dropping manifests and tags under the
 * lock, deleting the blobs and unpacked layers no remaining image needs, and sweeping what
 * crashed builds and imports left behind.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { blobPath, readJson } from "./blobs.js";
import { digestHex, type Digest } from "./digest.js";
import { diskUsageOf } from "./disk-usage.js";
import { ImageConflictError, ImageInUseError, ImageNotFoundError } from "./errors.js";
import { lstatIfExists, removeTree, tempName } from "./fs-util.js";
import { familiar, loadImage, matchReference } from "./images.js";
import { isErrno } from "./native-fs.js";
import { tagsFor, transact, type StoreState } from "./refs.js";
import type { StoreContext } from "./store-context.js";
import type { ImageManifest, RemoveResult } from "./types.js";
import { LAYER_TEMP_PREFIX } from "./unpack-layer.js";

/** How old an unreferenced blob or layer directory must be before a prune deletes it. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** Removes an image or a tag, as `docker rmi`; see `Store.removeImage`. */
export async function removeImage(ctx: StoreContext, ref: string, force: boolean): Promise<RemoveResult> {
  const doomed: string[] = [];
  const result = await transact(ctx, async (state) => {
    const { manifests, tag } = await matchReference(ctx, state, ref);
    if (manifests.length === 0) throw new ImageNotFoundError(ref);
    const untagged: string[] = [];
    let targets: Digest[];
    if (tag !== undefined) {
      const digest = manifests[0] as Digest;
      if (tagsFor(state, digest).length > 1) {
        state.refs.delete(tag);
        return { untagged: [tag], deleted: [], reclaimedBytes: 0 };
      }
      targets = [digest];
    } else {
      targets = manifests;
      const tags = targets.flatMap((d) => tagsFor(state, d));
      if (tags.length > 1 && !force) throw new ImageConflictError(ref, tags.map(familiar));
    }
    const ids = new Set<Digest>();
    for (const d of targets) ids.add((await readJson<ImageManifest>(ctx, d)).config.digest);
    for (const id of ids) {
      const users = await ctx.options.usage.containersUsing(id);
      if (users.length > 0) throw new ImageInUseError(ref, id, users);
    }
    for (const d of targets) {
      for (const t of tagsFor(state, d)) {
        state.refs.delete(t);
        untagged.push(t);
      }
    }
    const removed = await dropManifests(ctx, state, targets, doomed);
    return { untagged, deleted: removed.ids, reclaimedBytes: removed.bytes };
  });
  await removeDoomed(doomed);
  return result;
}

/** Removes images no container uses, untagged ones only when `dangling`; see `Store.pruneImages`. */
export async function pruneImages(ctx: StoreContext, dangling: boolean): Promise<RemoveResult> {
  const doomed: string[] = [];
  const result = await transact(ctx, async (state) => {
    const targets: Digest[] = [];
    const untagged: string[] = [];
    for (const digest of state.manifests.keys()) {
      const tags = tagsFor(state, digest);
      if (dangling && tags.length > 0) continue;
      const id = (await readJson<ImageManifest>(ctx, digest)).config.digest;
      if ((await ctx.options.usage.containersUsing(id)).length > 0) continue;
      targets.push(digest);
      for (const t of tags) {
        state.refs.delete(t);
        untagged.push(t);
      }
    }
    const removed = await dropManifests(ctx, state, targets, doomed);
    const orphans = await dropOrphans(ctx, state, doomed);
    return { untagged, deleted: removed.ids, reclaimedBytes: removed.bytes + orphans };
  });
  await removeDoomed(doomed);
  return result;
}

/**
 * Deletes blobs and layer directories no image in the index refers to and that are older than
 * {@link ORPHAN_GRACE_MS}: what crashed builds and imports left. The grace period spares a
 * build in progress, whose new layers are not in any image until it writes one.
 */
async function dropOrphans(ctx: StoreContext, state: StoreState, doomed: string[]): Promise<number> {
  const blobs = new Set<string>();
  const diffIds = new Set<string>();
  for (const digest of state.manifests.keys()) {
    const image = await loadImage(ctx, digest, []);
    for (const d of [digest, image.id, ...image.layers.map((l) => l.digest)]) blobs.add(digestHex(d));
    for (const l of image.layers) diffIds.add(digestHex(l.diffId));
  }
  const cutoff = Date.now() - ORPHAN_GRACE_MS;
  let bytes = 0;
  for (const name of await fs.readdir(ctx.blobsDir)) {
    if (blobs.has(name)) continue;
    const stat = await lstatIfExists(join(ctx.blobsDir, name));
    if (!stat || stat.mtimeMs > cutoff) continue;
    await fs.rm(join(ctx.blobsDir, name), { force: true });
    ctx.documents.delete(`sha256:${name}`);
    bytes += stat.blocks * 512;
  }
  for (const name of await fs.readdir(ctx.layersDir)) {
    if (name.startsWith(LAYER_TEMP_PREFIX) || diffIds.has(name)) continue;
    const dir = join(ctx.layersDir, name);
    // ctime: when the directory was renamed into place (its mtime comes from the archive).
    const stat = await lstatIfExists(dir);
    if (!stat || stat.ctimeMs > cutoff) continue;
    const tmp = join(ctx.layersDir, tempName(LAYER_TEMP_PREFIX));
    await fs.rename(dir, tmp);
    ctx.layerBlobs.delete(`sha256:${name}`);
    bytes += (await diskUsageOf(tmp)).sizeBytes;
    doomed.push(tmp);
  }
  return bytes;
}

/**
 * Removes manifests from the state and deletes the blobs and layer directories that only they
 * used. Blobs are unlinked here, under the lock; layer directories are renamed to temp names
 * (`doomed`) and deleted after the lock is released, since a big tree takes a while.
 */
async function dropManifests(ctx: StoreContext, state: StoreState, targets: Digest[], doomed: string[]): Promise<{ ids: Digest[]; bytes: number }> {
  if (targets.length === 0) return { ids: [], bytes: 0 };
  const removedIds = new Set<Digest>();
  const candidates = new Set<Digest>();
  const candidateDiffIds = new Set<Digest>();
  for (const digest of targets) {
    const image = await loadImage(ctx, digest, []);
    state.manifests.delete(digest);
    removedIds.add(image.id);
    candidates.add(digest).add(image.id);
    for (const l of image.layers) {
      candidates.add(l.digest);
      candidateDiffIds.add(l.diffId);
    }
  }
  for (const digest of state.manifests.keys()) {
    const image = await loadImage(ctx, digest, []);
    removedIds.delete(image.id);
    candidates.delete(digest);
    candidates.delete(image.id);
    for (const l of image.layers) {
      candidates.delete(l.digest);
      candidateDiffIds.delete(l.diffId);
    }
  }
  let bytes = 0;
  for (const digest of candidates) {
    const stat = await lstatIfExists(blobPath(ctx, digest));
    if (!stat) continue;
    await fs.rm(blobPath(ctx, digest), { force: true });
    ctx.documents.delete(digest);
    bytes += stat.blocks * 512;
  }
  for (const diffId of candidateDiffIds) {
    ctx.layerBlobs.delete(diffId);
    const dir = join(ctx.layersDir, digestHex(diffId));
    const tmp = join(ctx.layersDir, tempName(LAYER_TEMP_PREFIX));
    try {
      await fs.rename(dir, tmp);
    } catch (e) {
      if (isErrno(e, "ENOENT")) continue;
      throw e;
    }
    bytes += (await diskUsageOf(tmp)).sizeBytes;
    doomed.push(tmp);
  }
  return { ids: [...removedIds], bytes };
}

async function removeDoomed(doomed: string[]): Promise<void> {
  for (const dir of doomed) await removeTree(dir);
}
