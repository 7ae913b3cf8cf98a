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
 * This file holds `ImageStore`, the store's interface for the layers that read and write images
 * (the builder, registry transfers, archive import and export); the public `Store`
 * (registry/store.ts) extends it with pulls, pushes, archives and the machine's containers and
 * volumes. The work is in blobs.ts, refs.ts (index.json and refs/), images.ts, image-write.ts,
 * image-removal.ts, layers.ts, disk-usage.ts and cache-records.ts, which share the state in
 * store-context.ts.
 */
import { config } from "../config.js";
import { InvalidOptionError } from "../errors.js";
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
import { createLayerFromDir, layerDir, lowerDirs, unpackLayerFile, type UnpackedLayerFile } from "./layers.js";
import type { RecordedOwners } from "./layer-from-dir.js";
import { readState, tagsFor } from "./refs.js";
import { createStoreContext, type StoreContext } from "./store-context.js";
import type { PruneImagesOptions, RemoveImageOptions, StoreOptions, WriteImageOptions } from "./store-options.js";
import type { BlobInfo, Descriptor, DiskUsage, ImageInspect, ImageSummary, LayerInfo, RemoveResult, ResolvedImage, WriteImageInput, WrittenImage } from "./types.js";

const LOCK_TIMEOUT_MS = 60_000;

/**
 * The contexts of the `BENTO_HOME` stores, one per directory: `ImageStore.default()` and
 * `Store.default()` are two views of one store and share its in-memory caches and unpack
 * de-duplication.
 */
const defaultContexts = new Map<string, StoreContext>();
const defaultStores = new Map<string, ImageStore>();

/**
 * A content-addressed image store in one directory, safe for many processes at once: blobs,
 * images, tags, unpacked layers and build-cache records. The public `Store` adds pulls,
 * pushes, archives and the machine's containers and volumes.
 *
 * @example
 * ```ts
 * const store = Store.default();
 * for (const image of await store.images()) console.log(image.repository, image.tag, image.id);
 * await store.tag("alpine:3.20", "base:test");
 * ```
 */
export class ImageStore {
  /** The store's root directory. */
  readonly root: string;
  /** Paths, options and caches shared with the modules that do the work. */
  readonly #ctx: StoreContext;

  /** @internal */
  protected constructor(root: string, ctx: StoreContext) {
    this.root = root;
    this.#ctx = ctx;
  }

  /** A fresh context for the store in `root` with `options`' defaults filled in. @internal */
  protected static context(root: string, options: StoreOptions): StoreContext {
    const privileged = options.privileged ?? process.getuid?.() === 0;
    return createStoreContext(root, {
      usage: options.usage ?? new ContainerRecordUsage(join(root, "containers")),
      lockTimeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
      privileged,
      overlayXattrNamespace: options.overlayXattrNamespace ?? (privileged ? "trusted" : "user"),
    });
  }

  /** The shared context of the store at `BENTO_HOME`. @internal */
  protected static defaultContext(home: string): StoreContext {
    let ctx = defaultContexts.get(home);
    if (ctx === undefined) {
      ctx = ImageStore.context(home, {});
      defaultContexts.set(home, ctx);
    }
    return ctx;
  }

  /** The absolute root of `dir`, refused unless it is a non-empty path. @internal */
  protected static rootOf(dir: string): string {
    if (typeof dir !== "string" || dir === "") throw new InvalidOptionError("dir", "must be a non-empty path");
    return resolvePath(dir);
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
  static open(dir: string, options: StoreOptions = {}): ImageStore {
    const root = ImageStore.rootOf(dir);
    return new ImageStore(root, ImageStore.context(root, options));
  }

  /**
   * The store at `BENTO_HOME` (default `~/.local/share/bento`), one instance per process.
   *
   * @example
   * ```ts
   * const images = await Store.default().images();
   * ```
   */
  static default(): ImageStore {
    const home = config().home;
    let store = defaultStores.get(home);
    if (!store) {
      store = new ImageStore(home, ImageStore.defaultContext(home));
      defaultStores.set(home, store);
    }
    return store;
  }

  /**
   * Creates the store's directories and files unless they exist (every method does so on first
   * use); for importers that write under {@link ImageStore.tmpDir} before calling a method.
   *
   * @internal
   */
  async prepare(): Promise<void> {
    await this.#ctx.init();
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
   * Moves a temp file under {@link ImageStore.tmpDir} whose digest the caller computed into the
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

  /** Reads a whole blob (manifests and configs; stream layers from {@link ImageStore.blobPath}). */
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
   * For the build engine: layers come from {@link ImageStore.createLayerFromDir} or
   * `putBlob`.
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
   * @internal Unpacks a layer from a blob file not yet in the store (an archive being imported), as its
   * first use would: an unsafe entry (a ".." path, a link out of the layer) throws here. `unpacked`
   * is false when the layer directory already existed.
   */
  async unpackLayerFile(file: string, layer: { digest: Digest; diffId: Digest }): Promise<UnpackedLayerFile> {
    return unpackLayerFile(this.#ctx, file, layer);
  }

  /**
   * The layer directories of an image, top layer first, as overlayfs `lowerdir` wants them;
   * every layer is unpacked if it was not. A layer listed twice appears once, at its topmost
   * place (the lower copy is entirely hidden by the upper one). An image with no layers gives [].
   * `image`: a reference, or its layers (base first, as `resolve()` gives them) to skip resolving.
   */
  async lowerDirs(image: string | readonly LayerInfo[]): Promise<string[]> {
    return lowerDirs(this.#ctx, image);
  }

  /**
   * Turns a container's overlay upper directory into a gzip layer blob: overlay whiteouts (char
   * 0/0 devices, opaque directories) become OCI `.wh.` entries. For RUN steps and commit. The
   * layer's directory is unpacked lazily by {@link ImageStore.layerDir}. `recorded`: the owners
   * and modes to record instead of those on disk (rootless, for a tree bento made readable).
   * `adopt`: the directory is a tree the caller wrote (no overlay markers) and may lose; with
   * root's powers it becomes the layer's unpacked directory instead of being unpacked again.
   */
  async createLayerFromDir(upperDir: string, recorded?: RecordedOwners, adopt = false): Promise<LayerInfo> {
    return createLayerFromDir(this.#ctx, upperDir, recorded, adopt);
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
   * The image `ref` names, its manifest's descriptor and the tag `ref` named (if it named one),
   * read under one state snapshot: what an archive export writes. Throws
   * {@link ImageNotFoundError}.
   *
   * @internal
   */
  async exportSource(ref: string): Promise<{ image: ResolvedImage; manifest: Descriptor; tags: string[] }> {
    await this.#ctx.init();
    const state = await readState(this.#ctx);
    const { manifests, tag } = await matchReference(this.#ctx, state, ref);
    const digest = manifests[0];
    if (digest === undefined) throw new ImageNotFoundError(ref);
    const image = await loadImage(this.#ctx, digest, tagsFor(state, digest));
    const manifest = state.manifests.get(digest) as Descriptor;
    return { image, manifest, tags: tag === undefined ? [] : [tag] };
  }
}
