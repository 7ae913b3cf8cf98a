/**
 * `running.commit()`: an image from a container's changes, as `docker commit` makes one. The
 * container's overlay upper directory is copied first (with `cp -a --reflink=auto`, keeping
 * owners, modes, times, xattrs and whiteout devices), because the live one must not be touched
 * while the overlay is mounted; the copy loses the runtime's mount stubs and becomes one layer on
 * top of the parent image's layers.
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { InvalidOptionError } from "../errors.js";
import { tempName } from "../store/fs-util.js";
import { ImageStore } from "../store/image-store.js";
import type { HistoryEntry, LayerInfo } from "../store/types.js";
import type { ImageConfig } from "../image/config.js";
import type { BuildResult, CommitOptions, CommitParent } from "../image/build-engine.js";
import { BuildCache } from "./cache.js";
import { LayeredView } from "./layered-view.js";
import { storedConfigOf } from "./oci-config.js";
import { rootfsLayer } from "./rootfs-layer.js";
import { removeMountStubs, RUNTIME_MOUNT_STUBS } from "./run-step.js";
import { copyAsNamespaceRoot } from "../runtime/rootless-owner.js";
import { isRootless } from "../runtime/user-namespace.js";
import { layerOfTree } from "./layer-of-tree.js";

const execFileAsync = promisify(execFile);

/**
 * Makes an image from a container's upper directory over its parent image.
 *
 * @example
 * ```ts
 * const { id } = await commitContainer(join(containerDir, "upper"), { imageId, lowerDirs, config }, { tag: "snapshot:1" });
 * ```
 */
export async function commitContainer(upperDir: string, parent: CommitParent, options: CommitOptions = {}): Promise<BuildResult> {
  if (options.store !== undefined && !(options.store instanceof ImageStore)) throw new InvalidOptionError("commit.store", "expected a Store");
  const tags = options.tag === undefined ? [] : Array.isArray(options.tag) ? [...options.tag] : [options.tag];
  for (const tag of tags) if (typeof tag !== "string" || tag === "") throw new InvalidOptionError("commit.tag", 'expected a tag such as "snapshot:1"');
  const store = options.store ?? ImageStore.default();
  let layers: LayerInfo[];
  let history: HistoryEntry[];
  let config: ImageConfig;
  if (parent.imageId !== undefined) {
    const image = await store.resolve(parent.imageId);
    layers = [...image.layers];
    history = [...(image.config.history ?? [])];
    config = parent.config;
  } else {
    // A root filesystem directory (or several, top-first) that was never stored: import each.
    const cache = new BuildCache(store);
    layers = [];
    history = [];
    for (const dir of [...parent.lowerDirs].reverse()) {
      const imported = await rootfsLayer(store, cache, dir, false);
      layers.push(imported.layer);
      history.push({ created: imported.created, created_by: `bento: root filesystem ${dir}` });
    }
    config = parent.config;
  }
  config = { ...config, ...options.changes };

  const copy = join(store.tmpDir, tempName());
  mkdirSync(copy, { mode: 0o755 });
  const created = new Date().toISOString();
  let layer: LayerInfo | undefined;
  try {
    // Rootless, files that container users made are not the user's to read: copy as the user
    // namespace's root, which keeps their owners.
    if (isRootless()) await copyAsNamespaceRoot(upperDir, copy);
    else await execFileAsync("cp", ["-a", "--reflink=auto", `${upperDir}/.`, copy]);
    const view = new LayeredView(parent.lowerDirs);
    const empty = removeMountStubs(copy, view, [...RUNTIME_MOUNT_STUBS, ...(options.mountTargets ?? []).map((t) => t.replace(/^\/+/, ""))]);
    if (!empty) layer = await layerOfTree(store, copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  if (layer !== undefined) layers.push(layer);
  history.push({ created, created_by: "bento commit", ...(options.message === undefined ? {} : { comment: options.message }), ...(layer === undefined ? { empty_layer: true } : {}) });
  const written = await store.writeImage(
    {
      config: { created, ...(options.author === undefined ? {} : { author: options.author }), os: "linux", config: storedConfigOf(config), history },
      layers,
    },
    { tags },
  );
  return { id: written.id, manifestDigest: written.manifestDigest, tags, layers, config };
}
