/**
 * The image store: a directory, no server (DESIGN.md section 5).
 *
 * ```
 * <root>/oci-layout, index.json   an OCI image layout over blobs/, so export is a copy
 * <root>/blobs/sha256/<hex>       layer tars, configs and manifests, content-addressed
 * <root>/layers/<diffid hex>/     each layer unpacked once, overlay form, immutable
 * <root>/refs/<name>/<tag>        one small file per tag, holding a manifest digest
 * <root>/cache/<key>              build-cache records
 * <root>/containers/, volumes/    owned by the runtime and volumes
 * <root>/tmp/                     temp files on their way into place (same file system)
 * <root>/lock                     flock'd around every change to refs and index.json
 * ```
 *
 * index.json lists every image (manifest) the store holds, tagged or not; refs/ says which tags
 * point where. Both change only under the lock, with write-to-temp-then-rename, so readers need
 * no lock. Blobs and layer directories are immutable once renamed into place.
 *
 * This file holds the public `Store` class; the work is in blobs.ts, refs.ts (index.json and
 * refs/), images.ts, image-write.ts, image-removal.ts, layers.ts, disk-usage.ts and
 * cache-records.ts, which share the state in store-context.ts.
 */
import { config } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import { exportArchive } from "../registry/archive-export.js";
import { importArchive } from "../registry/archive-import.js";
import { ensureImage, type EnsureOptions } from "../registry/ensure.js";
import { pullImage, type PullOptions, type PullResult } from "../registry/pull.js";
import { pushImage, type PushOptions, type PushResult } from "../registry/push.js";
import { listMachineContainers, type MachineContainer } from "../runtime/machine-containers.js";
import { listVolumeRecords, type VolumeRecord } from "../volume/volume-store.js";
import { Volume } from "../volume/volume.js";
import { join, resolve as resolvePath } from "node:path";
import type { Readable } from "node:stream";
import { blobPath, commitBlob, hasBlob, putBlob, readBlob } from "./blobs.js";
import { getCacheRecord, putCacheRecord } from "./cache-records.js";
import type { Digest } from "./digest.js";
import { diskUsage } from "./disk-usage.js";
import { ImageNotFoundError } from "./errors.js";
import { ContainerRecordUsage } from "./image-usage.js";
import { pruneImages, removeImage } from "./image-removal.js";
import { addImage, tagImage, untagImage, writeImage } from "./image-write.js";
import { inspectImage, listImages, loadImage, matchReference, resolveImage } from "./images.js";
import { createLayerFromDir, layerDir, lowerDirs } from "./layers.js";
import { readState, tagsFor } from "./refs.js";
import { createStoreContext, type StoreContext } from "./store-context.js";
import type { ExportOptions, PruneImagesOptions, RemoveImageOptions, StoreOptions, WriteImageOptions } from "./store-options.js";
import type {
  BlobInfo,
  Descriptor,
  DiskUsage,
  ImageInspect,
  ImageSummary,
  ImportResult,
  LayerInfo,
  RemoveResult,
  ResolvedImage,
  WriteImageInput,
  WrittenImage,
} from "./types.js";

export { keepLayerXattr } from "./layers.js";
export type { ExportOptions, PruneImagesOptions, RemoveImageOptions, StoreOptions, WriteImageOptions } from "./store-options.js";

const LOCK_TIMEOUT_MS = 60_000;

const stores = new Map<string, Store>();

/**
 * A content-addressed image store in one directory, safe for many processes at once.
 *
 * @example
 * ```ts
 * const store = Store.default();
 * for (const image of await store.images()) console.log(image.repository, image.tag, image.id);
 * await store.tag("alpine:3.20", "base:test");
 * ```
 */
export class Store {
  /** The store's root directory. */
  readonly root: string;
  /** Paths, options and caches shared with the modules that do the work. */
  readonly #ctx: StoreContext;

  private constructor(root: string, options: StoreOptions) {
    this.root = root;
    const privileged = options.privileged ?? process.getuid?.() === 0;
    this.#ctx = createStoreContext(root, {
      usage: options.usage ?? new ContainerRecordUsage(join(root, "containers")),
      lockTimeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
      privileged,
      overlayXattrNamespace: options.overlayXattrNamespace ?? (privileged ? "trusted" : "user"),
    });
  }

  /**
   * Opens (and on first use creates) the store in `dir`. No I/O happens until a method is
   * called.
   *
   * @example
   * ```ts
   * const store = Store.open("/tmp/bento-test-store");
   * ```
   */
  static open(dir: string, options: StoreOptions = {}): Store {
    if (typeof dir !== "string" || dir === "") throw new InvalidOptionError("dir", "must be a non-empty path");
    return new Store(resolvePath(dir), options);
  }

  /**
   * The store at `BENTO_HOME` (default `~/.local/share/bento`), one instance per process.
   *
   * @example
   * ```ts
   * const images = await Store.default().images();
   * ```
   */
  static default(): Store {
    const home = config().home;
    let store = stores.get(home);
    if (!store) {
      store = new Store(home, {});
      stores.set(home, store);
    }
    return store;
  }

  // ---- paths ----

  /** `containers/`: the runtime's per-container directories. */
  get containersDir(): string {
    return this.#ctx.containersDir;
  }

  /** `volumes/`: named volumes. */
  get volumesDir(): string {
    return this.#ctx.volumesDir;
  }

  /** `tmp/`: temp files on the store's file system; everything in it is on its way elsewhere. */
  get tmpDir(): string {
    return this.#ctx.tmpDir;
  }

  /** `layers/`: unpacked layers. */
  get layersDir(): string {
    return this.#ctx.layersDir;
  }

  /** The file that holds the blob `digest` (which may not exist). */
  blobPath(digest: Digest): string {
    return blobPath(this.#ctx, digest);
  }

  // ---- blobs ----

  /**
   * Stores a blob and returns its digest and size. With `expected`, content that hashes
   * differently is refused with {@link DigestMismatchError} and nothing is stored.
   */
  async putBlob(data: Buffer | Readable | AsyncIterable<Buffer>, expected: { digest?: Digest; size?: number } = {}): Promise<BlobInfo> {
    return putBlob(this.#ctx, data, expected);
  }

  /**
   * Moves a temp file under {@link Store.tmpDir} whose digest the caller computed into the
   * store. For importers that already streamed the content to disk.
   */
  async adoptBlob(tmpFile: string, digest: Digest, size: number): Promise<BlobInfo> {
    await this.#ctx.init();
    return commitBlob(this.#ctx, tmpFile, digest, size);
  }

  /** True when the store holds the blob. */
  async hasBlob(digest: Digest): Promise<boolean> {
    return hasBlob(this.#ctx, digest);
  }

  /** Reads a whole blob (manifests and configs; stream layers from {@link Store.blobPath}). */
  async readBlob(digest: Digest): Promise<Buffer> {
    return readBlob(this.#ctx, digest);
  }

  // ---- images and tags ----

  /**
   * Resolves a reference: `name[:tag]`, `name@sha256:...`, a manifest digest, an image id
   * (`sha256:...` or bare hex) or a unique id prefix. Throws {@link ImageNotFoundError}.
   *
   * For the build engine and runtime: gives the layers (base first) and the parsed config.
   */
  async resolve(ref: string): Promise<ResolvedImage> {
    return resolveImage(this.#ctx, ref);
  }

  /**
   * Every image, one row per tag, untagged images as `<none>` (as `docker images`).
   *
   * @example
   * ```ts
   * const rows = await store.images(); // [{ repository: "alpine", tag: "3.20", id: "sha256:...", ... }]
   * ```
   */
  async images(): Promise<ImageSummary[]> {
    return listImages(this.#ctx);
  }

  /**
   * Details of one image: id, digest, tags, layers (digests and diff ids, sizes), config, history.
   *
   * @example
   * ```ts
   * const { id, config, layers } = await store.inspect("alpine:3.20");
   * ```
   */
  async inspect(ref: string): Promise<ImageInspect> {
    return inspectImage(this.#ctx, ref);
  }

  /**
   * Points the tag `dst` at the image `src` names. A tag names one image: moving it leaves the
   * image it named before untagged (`<none>`) if no other tag points there.
   *
   * @example
   * ```ts
   * await store.tag("sha256:4f1c...", "myapp:test");
   * ```
   */
  async tag(src: string, dst: string): Promise<void> {
    return tagImage(this.#ctx, src, dst);
  }

  /**
   * Removes a tag; the image stays (untagged if it was its last tag).
   *
   * @example
   * ```ts
   * await store.untag("myapp:test");
   * ```
   */
  async untag(ref: string): Promise<void> {
    return untagImage(this.#ctx, ref);
  }

  /**
   * Removes an image, as `docker rmi`: by tag, it removes the tag and, if it was the image's
   * last, the image; by id or digest, the image and (with `force` when there are several) its
   * tags. An image a container uses is never removed ({@link ImageInUseError}). Blobs and
   * unpacked layers no other image needs are deleted.
   *
   * @example
   * ```ts
   * await store.removeImage("myapp:test");
   * ```
   */
  async removeImage(ref: string, options: RemoveImageOptions = {}): Promise<RemoveResult> {
    return removeImage(this.#ctx, ref, options.force ?? false);
  }

  /**
   * Removes images no container uses: untagged ones (`dangling: true`, the default), or all
   * (`dangling: false`, as `docker image prune -a`). Also deletes blobs and unpacked layers that
   * no image refers to and that are more than an hour old (left by crashed builds or imports).
   *
   * @example
   * ```ts
   * const { deleted, reclaimedBytes } = await store.pruneImages();
   * ```
   */
  async pruneImages(options: PruneImagesOptions = {}): Promise<RemoveResult> {
    return pruneImages(this.#ctx, options.dangling ?? true);
  }

  /**
   * The containers whose files are in this store, from every process on the machine: running,
   * stopped, or left behind by a process that died (as `bento ps -a` lists them).
   *
   * @example
   * ```ts
   * for (const c of await Store.default().containers()) console.log(c.name, c.status);
   * ```
   */
  async containers(): Promise<MachineContainer[]> {
    return listMachineContainers({ runtimeDir: config().runtimeDir, home: this.root });
  }

  /**
   * The volumes of this machine's `BENTO_HOME`.
   *
   * @example
   * ```ts
   * const names = (await Store.default().volumes()).map((v) => v.name);
   * ```
   */
  async volumes(): Promise<VolumeRecord[]> {
    return listVolumeRecords();
  }

  /**
   * Removes the unused anonymous volumes, and with `all` the unused named ones too; returns their
   * names (as `Volume.prune`).
   *
   * @example
   * ```ts
   * await Store.default().pruneVolumes({ all: true });
   * ```
   */
  async pruneVolumes(options: { all?: boolean } = {}): Promise<string[]> {
    return Volume.prune(options);
  }

  /**
   * Bytes used by images, blobs, unpacked layers, containers, volumes and the build cache.
   *
   * @example
   * ```ts
   * const { totalBytes, reclaimableBytes } = await store.diskUsage();
   * ```
   */
  async diskUsage(): Promise<DiskUsage> {
    return diskUsage(this.#ctx);
  }

  /**
   * Writes an image (config plus layers whose blobs are already stored) as an OCI manifest and
   * adds it to the store. The image id is the sha256 of the config bytes, as Docker's.
   *
   * For the build engine: layers come from {@link Store.createLayerFromDir} or
   * {@link Store.putBlob}.
   */
  async writeImage(input: WriteImageInput, options: WriteImageOptions = {}): Promise<WrittenImage> {
    return writeImage(this.#ctx, input, options.tags ?? []);
  }

  /**
   * Adds a stored manifest to the image list and points `tags` at it, under the lock. Checks,
   * under the lock, that every blob it names is present (a concurrent removal may have taken
   * a shared one). For importers, which keep manifests exactly as they came.
   */
  async addImage(descriptor: Descriptor, tags: string[] = []): Promise<void> {
    return addImage(this.#ctx, descriptor, tags);
  }

  // ---- layers ----

  /**
   * The unpacked directory of the layer `diffId` (`layers/<hex>`), unpacking it from its blob on
   * first use. Safe when several processes ask at once: each unpacks to a temp dir and renames;
   * the losers drop their copy. `hint` names the blob when no stored image lists the layer yet.
   */
  async layerDir(diffId: Digest, hint?: LayerInfo): Promise<string> {
    return layerDir(this.#ctx, diffId, hint);
  }

  /**
   * The layer directories of an image, top layer first, as overlayfs `lowerdir` wants them;
   * every layer is unpacked if it was not. A layer listed twice appears once, at its topmost
   * place (the lower copy is entirely hidden by the upper one). An image with no layers gives [].
   */
  async lowerDirs(ref: string): Promise<string[]> {
    return lowerDirs(this.#ctx, ref);
  }

  /**
   * Turns a container's overlay upper directory into a gzip layer blob: overlay whiteouts (char
   * 0/0 devices, opaque directories) become OCI `.wh.` entries. For RUN steps and commit. The
   * layer's directory is unpacked lazily by {@link Store.layerDir}.
   */
  async createLayerFromDir(upperDir: string): Promise<LayerInfo> {
    return createLayerFromDir(this.#ctx, upperDir);
  }

  // ---- build cache ----

  /** Reads the build-cache record `cache/<key>` (JSON), or undefined. */
  async getCacheRecord<T>(key: string): Promise<T | undefined> {
    return getCacheRecord<T>(this.#ctx, key);
  }

  /** Writes the build-cache record `cache/<key>` (JSON), atomically. */
  async putCacheRecord(key: string, record: unknown): Promise<void> {
    return putCacheRecord(this.#ctx, key, record);
  }

  // ---- archives ----

  /**
   * Writes an image to a tar archive: `oci` (an OCI image layout) or `docker` (the same plus
   * `manifest.json`, as `docker save` since Docker 25). Blobs are copied as stored, so the image
   * id and, for `oci`, the manifest digest survive the round trip.
   *
   * @example
   * ```ts
   * await store.export("myapp:test", "/tmp/myapp.tar", { format: "docker" });
   * ```
   */
  async export(ref: string, path: string, options: ExportOptions = {}): Promise<void> {
    const format = options.format ?? "oci";
    if (format !== "oci" && format !== "docker") throw new InvalidOptionError("format", `"${String(format)}" is not "oci" or "docker"`);
    await this.#ctx.init();
    const state = await readState(this.#ctx);
    const { manifests, tag } = await matchReference(this.#ctx, state, ref);
    const digest = manifests[0];
    if (digest === undefined) throw new ImageNotFoundError(ref);
    const image = await loadImage(this.#ctx, digest, tagsFor(state, digest));
    const manifestBlob = state.manifests.get(digest) as Descriptor;
    await exportArchive(this, { image, manifest: manifestBlob, tags: tag === undefined ? [] : [tag] }, path, format);
  }

  /**
   * Imports images from a `docker save` tar, an OCI archive (tar, optionally gzipped) or an
   * OCI image-layout directory. Every blob's digest and size and every layer's diff id are
   * verified before anything is added. Tags come from `RepoTags` or the
   * `io.containerd.image.name` / `org.opencontainers.image.ref.name` annotations.
   *
   * @example
   * ```ts
   * const { images } = await store.import("/tmp/myapp.tar");
   * ```
   */
  async import(path: string): Promise<ImportResult> {
    await this.#ctx.init();
    return importArchive(this, path);
  }

  // ---- registries ----

  /**
   * Pulls an image from its registry (`docker.io/library/x` for `x`) and tags it with `ref`
   * (a digest reference adds no tag). Blobs the store holds are not fetched again; the image id
   * is the registry's config digest. See src/registry/pull.ts.
   *
   * @example
   * ```ts
   * const { id } = await store.pull("alpine:3.20", { platform: "linux/arm64" });
   * ```
   */
  async pull(ref: string, options: PullOptions = {}): Promise<PullResult> {
    return pullImage(this, ref, options);
  }

  /**
   * Pushes the image tagged `ref` to the registry `ref` names; blobs the registry holds are
   * skipped or mounted from another repository. See src/registry/push.ts.
   *
   * @example
   * ```ts
   * await store.tag("myapp:test", "localhost:5000/myapp:test");
   * await store.push("localhost:5000/myapp:test");
   * ```
   */
  async push(ref: string, options: PushOptions = {}): Promise<PushResult> {
    return pushImage(this, ref, options);
  }

  /**
   * The image `ref` names, pulled first as the pull policy says (`BENTO_PULL_POLICY`: "missing"
   * by default, "always", "never"; or `options.policy`). For the build engine's FROM and the
   * runtime. See src/registry/ensure.ts.
   *
   * @example
   * ```ts
   * const { layers, config } = await store.ensure("alpine:3.20");
   * ```
   */
  async ensure(ref: string, options: EnsureOptions = {}): Promise<ResolvedImage> {
    return ensureImage(this, ref, options);
  }
}
