/**
 * A `rootfs` base (`Image.fromRootfs(dir)`): the directory is imported once into the store as a
 * layer. Which import a directory maps to is decided by a hash of its tree's metadata, not its
 * content, so a build does not read every file again: each entry's path, type, mode, owner, size,
 * mtime (nanoseconds), device number and symlink target. A change that keeps all of those (an
 * edit followed by `touch -r`) is not seen; `build({ pull: true })` re-imports regardless.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { ImageStore } from "../store/image-store.js";
import type { LayerInfo } from "../store/types.js";
import type { BuildCache } from "./cache.js";

/** The imported layer of a root filesystem. */
export interface RootfsLayer {
  layer: LayerInfo;
  /** When it was imported. */
  created: string;
  /** True when this call imported it (false: found in the cache). */
  imported: boolean;
  /** The metadata hash of the tree, its cache key. */
  hash: string;
}

/**
 * The metadata hash of the tree under `dir` (see the module comment).
 *
 * @example
 * ```ts
 * treeMetadataHash("/srv/rootfs"); // "3f1c..."
 * ```
 */
export function treeMetadataHash(dir: string): string {
  const hash = createHash("sha256");
  const visit = (abs: string, rel: string): void => {
    const names = readdirSync(abs).sort();
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(childAbs, { bigint: true });
      const link = st.isSymbolicLink() ? readlinkSync(childAbs) : "";
      hash.update(`${childRel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${st.mtimeNs}\0${st.rdev}\0${link}\n`);
      if (st.isDirectory()) visit(childAbs, childRel);
    }
  };
  const root = lstatSync(dir, { bigint: true });
  hash.update(`.\0${root.mode}\0${root.uid}\0${root.gid}\n`);
  visit(dir, "");
  return hash.digest("hex");
}

/**
 * The layer of the root filesystem `dir`, importing it when the store has none for its current
 * tree (or when `reimport` is set). Imports run under the cache's key lock, so two processes
 * importing the same tree share one layer.
 *
 * @example
 * ```ts
 * const { layer } = await rootfsLayer(store, cache, "/srv/rootfs", false);
 * ```
 */
export async function rootfsLayer(store: ImageStore, cache: BuildCache, dir: string, reimport: boolean): Promise<RootfsLayer> {
  const hash = treeMetadataHash(dir);
  const known = await cache.rootfs(hash);
  if (!reimport && known?.layer !== undefined && (await cache.usable(known))) return { layer: known.layer, created: known.created, imported: false, hash };
  return cache.withKeyLock(`rootfs-${hash}`, async () => {
    const again = await cache.rootfs(hash);
    if (!reimport && again?.layer !== undefined && (await cache.usable(again))) return { layer: again.layer, created: again.created, imported: false, hash };
    const layer = await store.createLayerFromDir(dir);
    // The same tree gives the same tar: keep the first import's time, so the image id stays.
    const created = again?.layer?.diffId === layer.diffId ? again.created : new Date().toISOString();
    await cache.putRootfs(hash, { created, layer });
    return { layer, created, imported: true, hash };
  });
}
