/**
 * Disk usage of the store (`docker system df`): bytes under each part of the store, and how
 * much removing dangling images would reclaim.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { blobPath } from "./blobs.js";
import type { Digest } from "./digest.js";
import { lstatIfExists } from "./fs-util.js";
import { imageSize, loadImage } from "./images.js";
import { isErrno } from "./native-fs.js";
import { readState, tagsFor } from "./refs.js";
import type { StoreContext } from "./store-context.js";
import type { DiskUsage, UsageCount } from "./types.js";
import { LAYER_TEMP_PREFIX } from "./unpack-layer.js";

/** Bytes used by images, blobs, unpacked layers, containers, volumes and the build cache; see `Store.diskUsage`. */
export async function diskUsage(ctx: StoreContext): Promise<DiskUsage> {
  await ctx.init();
  const state = await readState(ctx);
  const blobs = await diskUsageOf(ctx.blobsDir, false);
  const layers = await diskUsageOf(ctx.layersDir, false);
  const containers = await diskUsageOf(ctx.containersDir, false);
  const volumes = await diskUsageOf(ctx.volumesDir, false);
  const cache = await diskUsageOf(join(ctx.root, "cache"), false);
  let imagesBytes = 0;
  const danglingBlobs = new Set<Digest>();
  const keptBlobs = new Set<Digest>();
  for (const digest of state.manifests.keys()) {
    const image = await loadImage(ctx, digest, []);
    imagesBytes += imageSize(image);
    const blobsOf = [digest, image.id, ...image.layers.map((l) => l.digest)];
    const dangling = tagsFor(state, digest).length === 0 && (await ctx.options.usage.containersUsing(image.id)).length === 0;
    for (const b of blobsOf) (dangling ? danglingBlobs : keptBlobs).add(b);
  }
  let reclaimableBytes = 0;
  for (const b of danglingBlobs) {
    if (keptBlobs.has(b)) continue;
    const stat = await lstatIfExists(blobPath(ctx, b));
    if (stat) reclaimableBytes += stat.blocks * 512;
  }
  const total = blobs.sizeBytes + layers.sizeBytes + containers.sizeBytes + volumes.sizeBytes + cache.sizeBytes;
  return {
    images: { count: state.manifests.size, sizeBytes: imagesBytes },
    blobs,
    layers,
    containers,
    volumes,
    cache,
    reclaimableBytes,
    totalBytes: total,
  };
}

/** Bytes on disk under `path` (hardlinks once) and the number of top-level entries. */
export async function diskUsageOf(path: string, countSelf = true): Promise<UsageCount> {
  const seen = new Set<string>();
  let bytes = 0;
  const walk = async (p: string): Promise<void> => {
    const stat = await lstatIfExists(p);
    if (!stat) return;
    const key = `${stat.dev}:${stat.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      bytes += stat.blocks * 512;
    }
    if (stat.isDirectory()) {
      let names: string[] = [];
      try {
        names = await fs.readdir(p);
      } catch (e) {
        // EACCES: rootless, a directory of another owner (a layer's); its contents go uncounted.
        if (!isErrno(e, "ENOENT", "EACCES")) throw e;
      }
      for (const name of names) await walk(join(p, name));
    }
  };
  let count = 0;
  if (countSelf) {
    await walk(path);
    count = 1;
  } else {
    let names: string[] = [];
    try {
      names = await fs.readdir(path);
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw e;
    }
    for (const name of names) {
      if (name.startsWith(LAYER_TEMP_PREFIX) && path.endsWith("layers")) continue;
      await walk(join(path, name));
      count++;
    }
  }
  return { count, sizeBytes: bytes };
}

/**
 * Bytes on disk under `root` on its own file system (hardlinks once): a running container's
 * overlay mount and the volumes mounted into it are other file systems and are not walked, so
 * the number changes only when files under `root` are written or removed. `prune` measures it
 * before and after to report what it actually freed.
 */
export async function bytesOnOwnFileSystem(root: string): Promise<number> {
  const top = await lstatIfExists(root);
  if (!top) return 0;
  const seen = new Set<number>();
  let bytes = 0;
  const walk = async (p: string): Promise<void> => {
    const stat = await lstatIfExists(p);
    if (!stat || stat.dev !== top.dev) return;
    if (!seen.has(stat.ino)) {
      seen.add(stat.ino);
      bytes += stat.blocks * 512;
    }
    if (!stat.isDirectory()) return;
    let names: string[] = [];
    try {
      names = await fs.readdir(p);
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw e;
    }
    for (const name of names) await walk(join(p, name));
  };
  await walk(root);
  return bytes;
}
