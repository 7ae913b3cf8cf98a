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
 */
import { config } from "../config.js";
import { listMachineContainers, type MachineContainer } from "../runtime/machine-containers.js";
import { listVolumeRecords, type VolumeRecord } from "../volume/volume-store.js";
import { constants, createWriteStream, promises as fs } from "node:fs";
import { dirname, join, relative, resolve as resolvePath, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { config as bentoConfig } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import { exportArchive } from "../registry/archive-export.js";
import { importArchive } from "../registry/archive-import.js";
import { ensureImage, type EnsureOptions } from "../registry/ensure.js";
import { pullImage, type PullOptions, type PullResult } from "../registry/pull.js";
import { pushImage, type PushOptions, type PushResult } from "../registry/push.js";
import { digestHex, HashTap, isDigest, sha256, type Digest } from "./digest.js";
import {
  DigestMismatchError,
  ImageConflictError,
  ImageInUseError,
  ImageNotFoundError,
  InvalidArchiveError,
  InvalidReferenceError,
} from "./errors.js";
import { lstatIfExists, readFileIfExists, sweepTemps, tempName, writeFileAtomic } from "./fs-util.js";
import { ContainerRecordUsage, type ImageUsage } from "./image-usage.js";
import { layerTarFromDir } from "./layer-from-dir.js";
import { withLock } from "./lock.js";
import { hostArchitecture } from "./platform.js";
import { isErrno, systemError } from "./native-fs.js";
import { familiarName, formatReference, parseReference, parseTagReference, repositoryName, type Reference } from "./reference.js";
import {
  IMAGE_NAME_ANNOTATION,
  MediaType,
  REF_NAME_ANNOTATION,
  type ArchiveFormat,
  type BlobInfo,
  type Descriptor,
  type DiskUsage,
  type OciImageConfig,
  type ImageIndex,
  type ImageInspect,
  type ImageManifest,
  type ImageSummary,
  type ImportResult,
  type LayerInfo,
  type RemoveResult,
  type ResolvedImage,
  type UsageCount,
  type WriteImageInput,
  type WrittenImage,
} from "./types.js";
import { LAYER_TEMP_PREFIX, unpackLayer } from "./unpack-layer.js";

/** Options for {@link Store.open}. */
export interface StoreOptions {
  /** Who uses which image; by default read from `containers/<id>/config.json`. */
  usage?: ImageUsage;
  /** How long to wait for another process's store lock. Default 60 s. */
  lockTimeoutMs?: number;
  /**
   * Unpack with root's powers: owners from the archive, device nodes, `trusted.*` xattrs.
   * Default: true when running as root. Rootless unpacking keeps the caller as owner and skips
   * devices other than whiteouts.
   */
  privileged?: boolean;
  /**
   * The xattr namespace overlayfs uses for its opaque marker: `trusted` (the default as root),
   * or `user` for overlays mounted with `userxattr` (rootless, kernel 5.11+). Must match how
   * the runtime mounts the layers.
   */
  overlayXattrNamespace?: "trusted" | "user";
}

/** Options for {@link Store.removeImage}. */
export interface RemoveImageOptions {
  /** Remove an image referenced by id or digest even if it has several tags. Never overrides use by a container. */
  force?: boolean;
}

/** Options for {@link Store.pruneImages}. */
export interface PruneImagesOptions {
  /** Only untagged images (the default, as `docker image prune`); false: every image no container uses (`-a`). */
  dangling?: boolean;
}

/** Options for {@link Store.export}. */
export interface ExportOptions {
  /** `oci` (an OCI image layout archive) or `docker` (also readable by `docker load`). Default `oci`. */
  format?: ArchiveFormat;
}

/** Options for {@link Store.writeImage}. */
export interface WriteImageOptions {
  /** Tags to point at the new image, in the same locked step. */
  tags?: string[];
}

/** Internal state read under the lock. */
interface StoreState {
  /** Every image manifest the store holds (index.json), by digest. */
  manifests: Map<Digest, Descriptor>;
  /** Tags (full references) and the manifest each points at. */
  refs: Map<string, Digest>;
}

const LOCK_TIMEOUT_MS = 60_000;
/** How old an unreferenced blob or layer directory must be before a prune deletes it. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;
const UNPACK_CONCURRENCY = 4;
const CACHE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.:-]{0,199}$/;

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
  readonly #options: Required<Omit<StoreOptions, "usage">> & { usage: ImageUsage };
  #ready: Promise<void> | undefined;
  /** Parsed manifests and configs by digest; blobs never change, so this never goes stale. */
  readonly #documents = new Map<Digest, unknown>();
  /** Which blob holds each diff id, for {@link Store.layerDir}. */
  readonly #layerBlobs = new Map<Digest, LayerInfo>();
  readonly #unpacking = new Map<Digest, Promise<string>>();

  private constructor(root: string, options: StoreOptions) {
    this.root = root;
    const privileged = options.privileged ?? process.getuid?.() === 0;
    this.#options = {
      usage: options.usage ?? new ContainerRecordUsage(join(root, "containers")),
      lockTimeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
      privileged,
      overlayXattrNamespace: options.overlayXattrNamespace ?? (privileged ? "trusted" : "user"),
    };
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
    const home = bentoConfig().home;
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
    return join(this.root, "containers");
  }

  /** `volumes/`: named volumes. */
  get volumesDir(): string {
    return join(this.root, "volumes");
  }

  /** `tmp/`: temp files on the store's file system; everything in it is on its way elsewhere. */
  get tmpDir(): string {
    return join(this.root, "tmp");
  }

  /** `layers/`: unpacked layers. */
  get layersDir(): string {
    return join(this.root, "layers");
  }

  #blobsDir(): string {
    return join(this.root, "blobs", "sha256");
  }

  /** The file that holds the blob `digest` (which may not exist). */
  blobPath(digest: Digest): string {
    if (!isDigest(digest)) throw new InvalidOptionError("digest", `"${String(digest)}" is not a sha256 digest`);
    return join(this.#blobsDir(), digestHex(digest));
  }

  #refPath(ref: Reference & { tag: string }): string {
    return join(this.root, "refs", ref.domain, ...ref.path.split("/"), ref.tag);
  }

  async #init(): Promise<void> {
    this.#ready ??= (async () => {
      for (const dir of [this.#blobsDir(), this.layersDir, join(this.root, "refs"), join(this.root, "cache"), this.containersDir, this.volumesDir, this.tmpDir]) {
        await fs.mkdir(dir, { recursive: true });
      }
      await this.#createIfMissing(join(this.root, "oci-layout"), `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
      await this.#createIfMissing(join(this.root, "index.json"), `${JSON.stringify(emptyIndex())}\n`);
      await sweepTemps(this.tmpDir, "");
      await sweepTemps(this.layersDir, LAYER_TEMP_PREFIX);
    })();
    try {
      await this.#ready;
    } catch (e) {
      this.#ready = undefined;
      throw systemError(`open store "${this.root}"`, e);
    }
  }

  /** Creates `path` with `content` unless it exists: link(2) of a finished temp file fails with EEXIST instead of replacing. */
  async #createIfMissing(path: string, content: string): Promise<void> {
    if (await lstatIfExists(path)) return;
    const tmp = join(this.tmpDir, tempName());
    await fs.writeFile(tmp, content);
    try {
      await fs.link(tmp, path);
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  // ---- blobs ----

  /**
   * Stores a blob and returns its digest and size. With `expected`, content that hashes
   * differently is refused with {@link DigestMismatchError} and nothing is stored.
   */
  async putBlob(data: Buffer | Readable | AsyncIterable<Buffer>, expected: { digest?: Digest; size?: number } = {}): Promise<BlobInfo> {
    await this.#init();
    if (Buffer.isBuffer(data)) {
      const digest = sha256(data);
      this.#checkBlob(digest, data.length, expected);
      const path = this.blobPath(digest);
      if (!(await lstatIfExists(path))) await writeFileAtomic(path, data, this.tmpDir);
      return { digest, size: data.length };
    }
    const tmp = join(this.tmpDir, tempName());
    const tap = new HashTap();
    try {
      const source = data instanceof Readable ? data : Readable.from(data);
      await pipeline(source, tap, createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
      const digest = tap.digest();
      this.#checkBlob(digest, tap.size, expected);
      return await this.#commitBlob(tmp, digest, tap.size);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  #checkBlob(digest: Digest, size: number, expected: { digest?: Digest; size?: number }): void {
    if (expected.digest !== undefined && expected.digest !== digest) throw new DigestMismatchError("store blob", expected.digest, digest);
    if (expected.size !== undefined && expected.size !== size) {
      throw new DigestMismatchError(`store blob ${digest}: size`, `${expected.size} bytes`, `${size} bytes`);
    }
  }

  /** Moves a finished temp file (hashed by the caller) into `blobs/`, after an fsync. */
  async #commitBlob(tmp: string, digest: Digest, size: number): Promise<BlobInfo> {
    const path = this.blobPath(digest);
    if (!(await lstatIfExists(path))) {
      const handle = await fs.open(tmp, constants.O_RDONLY);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, path);
    }
    return { digest, size };
  }

  /**
   * Moves a temp file under {@link Store.tmpDir} whose digest the caller computed into the
   * store. For importers that already streamed the content to disk.
   */
  async adoptBlob(tmpFile: string, digest: Digest, size: number): Promise<BlobInfo> {
    await this.#init();
    return this.#commitBlob(tmpFile, digest, size);
  }

  /** True when the store holds the blob. */
  async hasBlob(digest: Digest): Promise<boolean> {
    return (await lstatIfExists(this.blobPath(digest))) !== undefined;
  }

  /** Reads a whole blob (manifests and configs; stream layers from {@link Store.blobPath}). */
  async readBlob(digest: Digest): Promise<Buffer> {
    const data = await readFileIfExists(this.blobPath(digest));
    if (data === undefined) throw new InvalidArchiveError(`blob ${digest} is missing from the store "${this.root}"`);
    return data;
  }

  async #readJson<T>(digest: Digest): Promise<T> {
    const cached = this.#documents.get(digest);
    if (cached !== undefined) return cached as T;
    const data = await this.readBlob(digest);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString("utf8"));
    } catch (e) {
      throw new InvalidArchiveError(`blob ${digest} is not valid JSON`, { cause: e });
    }
    this.#documents.set(digest, parsed);
    return parsed as T;
  }

  // ---- state: index.json and refs ----

  async #readManifests(): Promise<Map<Digest, Descriptor>> {
    const raw = await readFileIfExists(join(this.root, "index.json"));
    const manifests = new Map<Digest, Descriptor>();
    if (raw === undefined) return manifests;
    const index = JSON.parse(raw.toString("utf8")) as ImageIndex;
    for (const d of index.manifests ?? []) {
      if (isDigest(d.digest) && !manifests.has(d.digest)) manifests.set(d.digest, { mediaType: d.mediaType, digest: d.digest, size: d.size });
    }
    return manifests;
  }

  async #readRefs(): Promise<Map<string, Digest>> {
    const refs = new Map<string, Digest>();
    const base = join(this.root, "refs");
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isErrno(e, "ENOENT")) return;
        throw e;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) {
          const parts = relative(base, path).split(sep);
          if (parts.length < 3) continue;
          const [domain, ...rest] = parts;
          const tag = rest.pop() as string;
          const content = (await readFileIfExists(path))?.toString("utf8").trim();
          if (isDigest(content)) refs.set(`${domain}/${rest.join("/")}:${tag}`, content);
        }
      }
    };
    await walk(base);
    return refs;
  }

  async #readState(): Promise<StoreState> {
    const manifests = await this.#readManifests();
    const refs = await this.#readRefs();
    return { manifests, refs };
  }

  /**
   * Runs `fn` on the current state under the store lock, then writes what it changed: index.json
   * first (so a tag never points at an image the index lacks for long), then the ref files.
   * Refs to manifests the index does not hold are dropped.
   */
  async #transact<T>(fn: (state: StoreState) => Promise<T>): Promise<T> {
    await this.#init();
    return withLock(
      join(this.root, "lock"),
      async () => {
        const state = await this.#readState();
        const before = { manifests: new Map(state.manifests), refs: new Map(state.refs) };
        const result = await fn(state);
        for (const [ref, digest] of state.refs) if (!state.manifests.has(digest)) state.refs.delete(ref);
        const changed =
          before.manifests.size !== state.manifests.size ||
          [...state.manifests.keys()].some((d) => !before.manifests.has(d)) ||
          before.refs.size !== state.refs.size ||
          [...state.refs].some(([ref, d]) => before.refs.get(ref) !== d);
        const added = [...state.refs].filter(([ref, digest]) => before.refs.get(ref) !== digest);
        for (const [ref] of added) if (!before.refs.has(ref)) await this.#checkRefPath(ref);
        if (changed) await this.#writeIndex(state);
        for (const [ref, digest] of added) await this.#writeRef(ref, digest);
        for (const ref of before.refs.keys()) if (!state.refs.has(ref)) await this.#deleteRef(ref);
        return result;
      },
      { timeoutMs: this.#options.lockTimeoutMs },
    );
  }

  async #writeIndex(state: StoreState): Promise<void> {
    const tagsOf = new Map<Digest, string[]>();
    for (const [ref, digest] of [...state.refs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      tagsOf.set(digest, [...(tagsOf.get(digest) ?? []), ref]);
    }
    const manifests: Descriptor[] = [];
    for (const d of state.manifests.values()) {
      const tags = tagsOf.get(d.digest) ?? [];
      if (tags.length === 0) manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size });
      for (const tag of tags) {
        manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { [IMAGE_NAME_ANNOTATION]: tag, [REF_NAME_ANNOTATION]: tag } });
      }
    }
    const index: ImageIndex = { ...emptyIndex(), manifests };
    await writeFileAtomic(join(this.root, "index.json"), `${JSON.stringify(index)}\n`, this.tmpDir);
  }

  /**
   * refs/ holds `<name>/<tag>` files, so the repository `app` with tag `x` and the repository
   * `app/x` want the same path as a file and as a directory. Refuse such a tag before anything
   * is written.
   */
  async #checkRefPath(ref: string): Promise<void> {
    const base = join(this.root, "refs");
    const path = this.#refPath(parseTagReference(ref));
    const collision = (await lstatIfExists(path))?.isDirectory() ? path : undefined;
    let ancestor: string | undefined;
    for (let dir = dirname(path); dir.startsWith(`${base}${sep}`) && ancestor === undefined; dir = dirname(dir)) {
      if ((await lstatIfExists(dir))?.isFile()) ancestor = dir;
    }
    const other = collision ?? ancestor;
    if (other !== undefined) {
      throw new InvalidReferenceError(ref, `its tag file refs/${relative(base, path)} collides with refs/${relative(base, other)} (a repository and a tag of the same name); choose another tag or name`);
    }
  }

  async #writeRef(ref: string, digest: Digest): Promise<void> {
    const path = this.#refPath(parseTagReference(ref));
    await fs.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, `${digest}\n`, this.tmpDir);
  }

  async #deleteRef(ref: string): Promise<void> {
    const path = this.#refPath(parseTagReference(ref));
    await fs.rm(path, { force: true });
    // Drop emptied repository directories, up to refs/.
    const stop = join(this.root, "refs");
    for (let dir = dirname(path); dir.startsWith(`${stop}${sep}`); dir = dirname(dir)) {
      try {
        await fs.rmdir(dir);
      } catch {
        break;
      }
    }
  }

  // ---- images ----

  async #loadImage(manifestDigest: Digest, tags: string[]): Promise<ResolvedImage> {
    const manifest = await this.#readJson<ImageManifest>(manifestDigest);
    const config = await this.#readJson<OciImageConfig>(manifest.config.digest);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArchiveError(`image ${manifest.config.digest}: the manifest has ${manifest.layers.length} layers but the config lists ${diffIds.length} diff ids`);
    }
    const layers = manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i] as Digest, size: l.size, mediaType: l.mediaType }));
    for (const layer of layers) if (!this.#layerBlobs.has(layer.diffId)) this.#layerBlobs.set(layer.diffId, layer);
    return { id: manifest.config.digest, manifestDigest, manifest, config, layers, tags };
  }

  /** Finds manifests by image id (config digest), manifest digest or id prefix. */
  async #findByDigest(manifests: Map<Digest, Descriptor>, want: string, prefix: boolean): Promise<Digest[]> {
    const found: Digest[] = [];
    for (const digest of manifests.keys()) {
      const manifest = await this.#readJson<ImageManifest>(digest);
      const id = manifest.config?.digest;
      const hit = prefix ? id?.startsWith(`sha256:${want}`) : digest === want || id === want;
      if (hit) found.push(digest);
    }
    return found;
  }

  /**
   * Resolves a reference: `name[:tag]`, `name@sha256:...`, a manifest digest, an image id
   * (`sha256:...` or bare hex) or a unique id prefix. Throws {@link ImageNotFoundError}.
   *
   * For the build engine and runtime: gives the layers (base first) and the parsed config.
   */
  async resolve(ref: string): Promise<ResolvedImage> {
    await this.#init();
    const state = await this.#readState();
    const matches = await this.#match(state, ref);
    const first = matches.manifests[0];
    if (first === undefined) throw new ImageNotFoundError(ref);
    return this.#loadImage(first, tagsFor(state, first));
  }

  /** What a reference names: the manifests, and the tag when it was a tag reference. */
  async #match(state: StoreState, ref: string): Promise<{ manifests: Digest[]; tag: string | undefined }> {
    const bare = /^[a-f0-9]{64}$/.test(ref) ? `sha256:${ref}` : ref;
    if (isDigest(bare)) {
      const found = await this.#findByDigest(state.manifests, bare, false);
      return { manifests: preferTagged(state, found), tag: undefined };
    }
    let parsed: Reference | undefined;
    try {
      parsed = parseReference(ref);
    } catch (e) {
      if (!(e instanceof InvalidReferenceError)) throw e;
    }
    if (parsed?.digest !== undefined) {
      return { manifests: state.manifests.has(parsed.digest) ? [parsed.digest] : [], tag: undefined };
    }
    if (parsed !== undefined) {
      const full = formatReference(parsed);
      const digest = state.refs.get(full);
      if (digest !== undefined && state.manifests.has(digest)) return { manifests: [digest], tag: full };
    }
    if (/^[a-f0-9]{4,63}$/.test(ref)) {
      const found = await this.#findByDigest(state.manifests, ref, true);
      const ids = new Set<string>();
      for (const d of found) ids.add((await this.#readJson<ImageManifest>(d)).config.digest);
      if (ids.size > 1) throw new InvalidReferenceError(ref, `the id prefix matches ${ids.size} images; give more digits`);
      return { manifests: preferTagged(state, found), tag: undefined };
    }
    if (parsed === undefined) parseReference(ref);
    return { manifests: [], tag: undefined };
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
    await this.#init();
    const state = await this.#readState();
    const rows: ImageSummary[] = [];
    for (const digest of state.manifests.keys()) {
      const image = await this.#loadImage(digest, tagsFor(state, digest));
      const repoTags = image.tags.map(familiar);
      const base = {
        id: image.id,
        manifestDigest: digest,
        repoTags,
        created: image.config.created,
        sizeBytes: imageSize(image),
      };
      if (image.tags.length === 0) rows.push({ repository: "<none>", tag: "<none>", ...base });
      for (const full of image.tags) {
        const ref = parseTagReference(full);
        rows.push({ repository: familiarName(repositoryName(ref)), tag: ref.tag, ...base });
      }
    }
    return rows.sort((a, b) => (b.created ?? "").localeCompare(a.created ?? "") || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
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
    const image = await this.resolve(ref);
    return {
      id: image.id,
      manifestDigest: image.manifestDigest,
      repoTags: image.tags.map(familiar),
      created: image.config.created,
      architecture: image.config.architecture,
      os: image.config.os,
      config: image.config.config ?? {},
      layers: image.layers,
      history: image.config.history ?? [],
      sizeBytes: imageSize(image),
      rawConfig: image.config,
    };
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
    const target = formatReference(parseTagReference(dst));
    await this.#transact(async (state) => {
      const { manifests } = await this.#match(state, src);
      const digest = manifests[0];
      if (digest === undefined) throw new ImageNotFoundError(src);
      state.refs.set(target, digest);
    });
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
    const target = formatReference(parseTagReference(ref));
    await this.#transact(async (state) => {
      if (!state.refs.has(target)) throw new ImageNotFoundError(ref);
      state.refs.delete(target);
    });
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
    const doomed: string[] = [];
    const result = await this.#transact(async (state) => {
      const { manifests, tag } = await this.#match(state, ref);
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
        if (tags.length > 1 && !options.force) throw new ImageConflictError(ref, tags.map(familiar));
      }
      const ids = new Set<Digest>();
      for (const d of targets) ids.add((await this.#readJson<ImageManifest>(d)).config.digest);
      for (const id of ids) {
        const users = await this.#options.usage.containersUsing(id);
        if (users.length > 0) throw new ImageInUseError(ref, id, users);
      }
      for (const d of targets) {
        for (const t of tagsFor(state, d)) {
          state.refs.delete(t);
          untagged.push(t);
        }
      }
      const removed = await this.#dropManifests(state, targets, doomed);
      return { untagged, deleted: removed.ids, reclaimedBytes: removed.bytes };
    });
    await this.#removeDoomed(doomed);
    return result;
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
    const dangling = options.dangling ?? true;
    const doomed: string[] = [];
    const result = await this.#transact(async (state) => {
      const targets: Digest[] = [];
      const untagged: string[] = [];
      for (const digest of state.manifests.keys()) {
        const tags = tagsFor(state, digest);
        if (dangling && tags.length > 0) continue;
        const id = (await this.#readJson<ImageManifest>(digest)).config.digest;
        if ((await this.#options.usage.containersUsing(id)).length > 0) continue;
        targets.push(digest);
        for (const t of tags) {
          state.refs.delete(t);
          untagged.push(t);
        }
      }
      const removed = await this.#dropManifests(state, targets, doomed);
      const orphans = await this.#dropOrphans(state, doomed);
      return { untagged, deleted: removed.ids, reclaimedBytes: removed.bytes + orphans };
    });
    await this.#removeDoomed(doomed);
    return result;
  }

  /**
   * Deletes blobs and layer directories no image in the index refers to and that are older than
   * {@link ORPHAN_GRACE_MS}: what crashed builds and imports left. The grace period spares a
   * build in progress, whose new layers are not in any image until it writes one.
   */
  async #dropOrphans(state: StoreState, doomed: string[]): Promise<number> {
    const blobs = new Set<string>();
    const diffIds = new Set<string>();
    for (const digest of state.manifests.keys()) {
      const image = await this.#loadImage(digest, []);
      for (const d of [digest, image.id, ...image.layers.map((l) => l.digest)]) blobs.add(digestHex(d));
      for (const l of image.layers) diffIds.add(digestHex(l.diffId));
    }
    const cutoff = Date.now() - ORPHAN_GRACE_MS;
    let bytes = 0;
    for (const name of await fs.readdir(this.#blobsDir())) {
      if (blobs.has(name)) continue;
      const stat = await lstatIfExists(join(this.#blobsDir(), name));
      if (!stat || stat.mtimeMs > cutoff) continue;
      await fs.rm(join(this.#blobsDir(), name), { force: true });
      this.#documents.delete(`sha256:${name}`);
      bytes += stat.blocks * 512;
    }
    for (const name of await fs.readdir(this.layersDir)) {
      if (name.startsWith(LAYER_TEMP_PREFIX) || diffIds.has(name)) continue;
      const dir = join(this.layersDir, name);
      // ctime: when the directory was renamed into place (its mtime comes from the archive).
      const stat = await lstatIfExists(dir);
      if (!stat || stat.ctimeMs > cutoff) continue;
      const tmp = join(this.layersDir, tempName(LAYER_TEMP_PREFIX));
      await fs.rename(dir, tmp);
      this.#layerBlobs.delete(`sha256:${name}`);
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
  async #dropManifests(state: StoreState, targets: Digest[], doomed: string[]): Promise<{ ids: Digest[]; bytes: number }> {
    if (targets.length === 0) return { ids: [], bytes: 0 };
    const removedIds = new Set<Digest>();
    const candidates = new Set<Digest>();
    const candidateDiffIds = new Set<Digest>();
    for (const digest of targets) {
      const image = await this.#loadImage(digest, []);
      state.manifests.delete(digest);
      removedIds.add(image.id);
      candidates.add(digest).add(image.id);
      for (const l of image.layers) {
        candidates.add(l.digest);
        candidateDiffIds.add(l.diffId);
      }
    }
    for (const digest of state.manifests.keys()) {
      const image = await this.#loadImage(digest, []);
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
      const stat = await lstatIfExists(this.blobPath(digest));
      if (!stat) continue;
      await fs.rm(this.blobPath(digest), { force: true });
      this.#documents.delete(digest);
      bytes += stat.blocks * 512;
    }
    for (const diffId of candidateDiffIds) {
      this.#layerBlobs.delete(diffId);
      const dir = join(this.layersDir, digestHex(diffId));
      const tmp = join(this.layersDir, tempName(LAYER_TEMP_PREFIX));
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

  async #removeDoomed(doomed: string[]): Promise<void> {
    for (const dir of doomed) await fs.rm(dir, { recursive: true, force: true });
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
   * Bytes used by images, blobs, unpacked layers, containers, volumes and the build cache.
   *
   * @example
   * ```ts
   * const { totalBytes, reclaimableBytes } = await store.diskUsage();
   * ```
   */
  async diskUsage(): Promise<DiskUsage> {
    await this.#init();
    const state = await this.#readState();
    const blobs = await diskUsageOf(this.#blobsDir(), false);
    const layers = await diskUsageOf(this.layersDir, false);
    const containers = await diskUsageOf(this.containersDir, false);
    const volumes = await diskUsageOf(this.volumesDir, false);
    const cache = await diskUsageOf(join(this.root, "cache"), false);
    let imagesBytes = 0;
    const danglingBlobs = new Set<Digest>();
    const keptBlobs = new Set<Digest>();
    for (const digest of state.manifests.keys()) {
      const image = await this.#loadImage(digest, []);
      imagesBytes += imageSize(image);
      const blobsOf = [digest, image.id, ...image.layers.map((l) => l.digest)];
      const dangling = tagsFor(state, digest).length === 0 && (await this.#options.usage.containersUsing(image.id)).length === 0;
      for (const b of blobsOf) (dangling ? danglingBlobs : keptBlobs).add(b);
    }
    let reclaimableBytes = 0;
    for (const b of danglingBlobs) {
      if (keptBlobs.has(b)) continue;
      const stat = await lstatIfExists(this.blobPath(b));
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

  /**
   * Writes an image (config plus layers whose blobs are already stored) as an OCI manifest and
   * adds it to the store. The image id is the sha256 of the config bytes, as Docker's.
   *
   * For the build engine: layers come from {@link Store.createLayerFromDir} or
   * {@link Store.putBlob}.
   */
  async writeImage(input: WriteImageInput, options: WriteImageOptions = {}): Promise<WrittenImage> {
    await this.#init();
    const tags = (options.tags ?? []).map((t) => formatReference(parseTagReference(t)));
    const diffIds = input.layers.map((l) => l.diffId);
    let configBytes: Buffer;
    if (Buffer.isBuffer(input.config)) {
      configBytes = input.config;
      const parsed = JSON.parse(configBytes.toString("utf8")) as OciImageConfig;
      const recorded = parsed.rootfs?.diff_ids ?? [];
      if (recorded.length !== diffIds.length || recorded.some((d, i) => d !== diffIds[i])) {
        throw new InvalidOptionError("config", "rootfs.diff_ids in the config bytes does not match the layers' diffId list");
      }
    } else {
      const config: OciImageConfig = {
        ...input.config,
        architecture: input.config.architecture ?? hostArchitecture(),
        os: input.config.os ?? "linux",
        rootfs: { type: "layers", diff_ids: diffIds },
      };
      configBytes = Buffer.from(JSON.stringify(config));
    }
    for (const layer of input.layers) {
      if (!isDigest(layer.digest) || !isDigest(layer.diffId)) throw new InvalidOptionError("layers", `${layer.digest} / ${layer.diffId}: not sha256 digests`);
      const stat = await lstatIfExists(this.blobPath(layer.digest));
      if (!stat) throw new InvalidOptionError("layers", `blob ${layer.digest} is not in the store; putBlob() or createLayerFromDir() it first`);
      if (stat.size !== layer.size) throw new InvalidOptionError("layers", `blob ${layer.digest} has ${stat.size} bytes, not ${layer.size}`);
    }
    const configBlob = await this.putBlob(configBytes);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: input.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const manifestBlob = await this.putBlob(Buffer.from(JSON.stringify(manifest)));
    await this.addImage({ mediaType: MediaType.ociManifest, digest: manifestBlob.digest, size: manifestBlob.size }, tags);
    return { id: configBlob.digest, manifestDigest: manifestBlob.digest };
  }

  /**
   * Adds a stored manifest to the image list and points `tags` at it, under the lock. Checks,
   * under the lock, that every blob it names is present (a concurrent removal may have taken
   * a shared one). For importers, which keep manifests exactly as they came.
   */
  async addImage(descriptor: Descriptor, tags: string[] = []): Promise<void> {
    const fullTags = tags.map((t) => formatReference(parseTagReference(t)));
    await this.#transact(async (state) => {
      const { manifest } = await this.#loadImage(descriptor.digest, []);
      for (const d of [manifest.config, ...manifest.layers]) {
        if (!(await this.hasBlob(d.digest))) {
          throw new InvalidArchiveError(`image ${descriptor.digest}: blob ${d.digest} is missing (removed by a concurrent prune?); import or build it again`);
        }
      }
      state.manifests.set(descriptor.digest, { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size });
      for (const tag of fullTags) state.refs.set(tag, descriptor.digest);
    });
  }

  // ---- layers ----

  /**
   * The unpacked directory of the layer `diffId` (`layers/<hex>`), unpacking it from its blob on
   * first use. Safe when several processes ask at once: each unpacks to a temp dir and renames;
   * the losers drop their copy. `hint` names the blob when no stored image lists the layer yet.
   */
  async layerDir(diffId: Digest, hint?: LayerInfo): Promise<string> {
    await this.#init();
    if (!isDigest(diffId)) throw new InvalidOptionError("diffId", `"${String(diffId)}" is not a sha256 digest`);
    const dir = join(this.layersDir, digestHex(diffId));
    if (await lstatIfExists(dir)) return dir;
    let pending = this.#unpacking.get(diffId);
    if (!pending) {
      pending = (async () => {
        const layer = hint ?? (await this.#findLayerBlob(diffId));
        const native = this.#options.privileged;
        const ns = this.#options.overlayXattrNamespace;
        const result = await unpackLayer({
          blobPath: this.blobPath(layer.digest),
          digest: layer.digest,
          diffId,
          layersDir: this.layersDir,
          options: {
            chown: native,
            devices: native,
            opaqueXattr: `${ns}.overlay.opaque`,
            keepXattr: (name) => keepLayerXattr(name, native),
          },
        });
        return result.dir;
      })();
      this.#unpacking.set(diffId, pending);
      pending.then(
        () => this.#unpacking.delete(diffId),
        () => this.#unpacking.delete(diffId),
      );
    }
    return pending;
  }

  async #findLayerBlob(diffId: Digest): Promise<LayerInfo> {
    const known = this.#layerBlobs.get(diffId);
    if (known) return known;
    for (const digest of (await this.#readManifests()).keys()) await this.#loadImage(digest, []);
    const found = this.#layerBlobs.get(diffId);
    if (!found) throw new InvalidOptionError("diffId", `no stored image has the layer ${diffId}; pass its blob as the hint`);
    return found;
  }

  /**
   * The layer directories of an image, top layer first, as overlayfs `lowerdir` wants them;
   * every layer is unpacked if it was not. A layer listed twice appears once, at its topmost
   * place (the lower copy is entirely hidden by the upper one). An image with no layers gives [].
   */
  async lowerDirs(ref: string): Promise<string[]> {
    const image = await this.resolve(ref);
    const dirs = new Array<string>(image.layers.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < image.layers.length) {
        const i = next++;
        const layer = image.layers[i] as LayerInfo;
        dirs[i] = await this.layerDir(layer.diffId, layer);
      }
    };
    await Promise.all(Array.from({ length: Math.min(UNPACK_CONCURRENCY, image.layers.length) }, worker));
    const seen = new Set<string>();
    const topFirst: string[] = [];
    for (const dir of dirs.reverse()) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      topFirst.push(dir);
    }
    return topFirst;
  }

  /**
   * Turns a container's overlay upper directory into a gzip layer blob: overlay whiteouts (char
   * 0/0 devices, opaque directories) become OCI `.wh.` entries. For RUN steps and commit. The
   * layer's directory is unpacked lazily by {@link Store.layerDir}.
   */
  async createLayerFromDir(upperDir: string): Promise<LayerInfo> {
    await this.#init();
    const tmp = join(this.tmpDir, tempName());
    const uncompressed = new HashTap();
    const compressed = new HashTap();
    const native = this.#options.privileged;
    try {
      const tar = Readable.from(
        layerTarFromDir(upperDir, {
          opaqueXattrs: ["trusted.overlay.opaque", "user.overlay.opaque"],
          keepXattr: (name) => keepLayerXattr(name, native),
        }),
      );
      await pipeline(tar, uncompressed, createGzip(), compressed, createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
      const layer: LayerInfo = {
        digest: compressed.digest(),
        diffId: uncompressed.digest(),
        size: compressed.size,
        mediaType: MediaType.ociLayerGzip,
      };
      await this.#commitBlob(tmp, layer.digest, layer.size);
      this.#layerBlobs.set(layer.diffId, layer);
      return layer;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  // ---- build cache ----

  #cachePath(key: string): string {
    if (!CACHE_KEY.test(key)) throw new InvalidOptionError("key", `"${key}" is not a cache key ([A-Za-z0-9_.:-], at most 200, not starting with ".")`);
    return join(this.root, "cache", key);
  }

  /** Reads the build-cache record `cache/<key>` (JSON), or undefined. */
  async getCacheRecord<T>(key: string): Promise<T | undefined> {
    await this.#init();
    const data = await readFileIfExists(this.#cachePath(key));
    if (data === undefined) return undefined;
    try {
      return JSON.parse(data.toString("utf8")) as T;
    } catch {
      return undefined;
    }
  }

  /** Writes the build-cache record `cache/<key>` (JSON), atomically. */
  async putCacheRecord(key: string, record: unknown): Promise<void> {
    await this.#init();
    await writeFileAtomic(this.#cachePath(key), `${JSON.stringify(record)}\n`, this.tmpDir);
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
    await this.#init();
    const state = await this.#readState();
    const { manifests, tag } = await this.#match(state, ref);
    const digest = manifests[0];
    if (digest === undefined) throw new ImageNotFoundError(ref);
    const image = await this.#loadImage(digest, tagsFor(state, digest));
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
    await this.#init();
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

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

function tagsFor(state: StoreState, digest: Digest): string[] {
  return [...state.refs].filter(([, d]) => d === digest).map(([ref]) => ref).sort();
}

function preferTagged(state: StoreState, digests: Digest[]): Digest[] {
  return [...digests].sort((a, b) => tagsFor(state, b).length - tagsFor(state, a).length);
}

function familiar(full: string): string {
  const ref = parseTagReference(full);
  return `${familiarName(repositoryName(ref))}:${ref.tag}`;
}

function imageSize(image: ResolvedImage): number {
  return image.manifest.config.size + image.layers.reduce((sum, l) => sum + l.size, 0);
}

/**
 * Which extended attributes a layer keeps. Overlay's own never (they would steer the overlay
 * that mounts the layer); `security.selinux` never (labels come from the runtime); `trusted.*`
 * and `security.*` only with root's powers (`security.capability` is how ping gets CAP_NET_RAW).
 */
export function keepLayerXattr(name: string, privileged: boolean): boolean {
  if (/^(trusted|user)\.overlay\./.test(name)) return false;
  if (name === "security.selinux") return false;
  if (name.startsWith("trusted.") || name.startsWith("security.")) return privileged;
  return true;
}

/** Bytes on disk under `path` (hardlinks once) and the number of top-level entries. */
async function diskUsageOf(path: string, countSelf = true): Promise<UsageCount> {
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
        if (!isErrno(e, "ENOENT")) throw e;
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
