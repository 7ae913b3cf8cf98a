/**
 * The builder's side of the registry build cache (`build({ cacheFrom, cacheTo })`): the document
 * a cache holds, the reports, and the view of the imported caches that the local cache (cache.ts)
 * falls back to. Which caches a build uses is decided in cache-settings.ts; what an export holds,
 * in cache-export.ts.
 *
 * A cache document lists steps by the same keys the local cache uses (cache.ts): the parent
 * state, the instruction and its inputs, with the step's layer and its creation time, so a machine
 * that finds every key gets the identical image id. Layers are fetched lazily: a hit whose layer no
 * later step runs on and the final image does not hold is never downloaded.
 *
 * The transport (the registry's distribution API) lives above the builder, in
 * registry/build-cache.ts; it is loaded on first use, through the seam registry/store.ts installs
 * (image-transfer.ts).
 */
import { BentoError } from "../errors.js";
import { imageTransfer } from "./image-transfer.js";
import type { ImageStore } from "../store/image-store.js";
import type { LayerInfo } from "../store/types.js";
import type { ChildSummary, RemoteStepSource, StepRecord } from "./cache.js";
import type { CacheExportReport, CacheImportReport, CacheMode } from "../image/build-cache-types.js";

export type { CacheExportReport, CacheImportReport } from "../image/build-cache-types.js";

/** One step of a cache document. */
export interface CachedStep {
  /** The step's cache key (hex). */
  key: string;
  /** The state it was built on (hex). */
  parent: string;
  /** Its instruction, to explain misses. */
  instruction: string;
  /** Its inputs (name -> short digest), to explain misses. */
  inputs: Record<string, string>;
  /** When it first ran; the image's history and `created` come from it. */
  created: string;
  /** The layer it made, if any. */
  layer?: LayerInfo;
}

/** A root filesystem directory imported as a layer, by the metadata hash of its tree. */
export interface CachedRootfs {
  /** The metadata hash of the tree (rootfs-layer.ts). */
  hash: string;
  /** When it was first imported. */
  created: string;
  /** Its layer. */
  layer: LayerInfo;
}

/** The content of a cache (the config blob of the cache manifest). */
export interface BuildCacheDocument {
  /** The document's format version. */
  version: 1;
  /** The mode of the last export that wrote it. */
  mode: CacheMode;
  /** Steps, most recently exported first. */
  steps: CachedStep[];
  /** Root filesystem directories imported as layers. */
  rootfs: CachedRootfs[];
}

/** One cache, read. */
export interface LoadedCache {
  ref: string;
  document: BuildCacheDocument;
  /** Bytes and blobs the load downloaded. */
  downloadedBytes: number;
  downloadedBlobs: number;
  /** Downloads a layer blob into the store (digest verified); resolves to its size. */
  fetchLayer(layer: LayerInfo): Promise<number>;
}

/** The transport, implemented in registry/build-cache.ts. */
export interface RemoteCacheBackend {
  /** Reads a cache; rejects with a message naming the reference when it cannot be used. */
  load(store: ImageStore, ref: string): Promise<LoadedCache>;
  /**
   * Writes `document` to `ref`, merged with the steps already there. `fetchLayer` gets a layer
   * the store lacks (a hit never downloaded) from the cache it came from.
   */
  save(store: ImageStore, ref: string, document: BuildCacheDocument, fetchLayer: (layer: LayerInfo) => Promise<void>): Promise<CacheExportReport>;
}

/**
 * A layer a cache promised could not be downloaded when the build needed it (the registry lost it
 * after the cache was checked, or became unreachable). The build starts again without the caches.
 */
export class CacheLayerUnavailableError extends BentoError {
  constructor(ref: string, digest: string, options: { cause: unknown }) {
    super("ERR_BUILD_CACHE_LAYER", `registry build cache ${ref}: layer ${digest} could not be downloaded (${(options.cause as Error).message})`, options);
  }
}

/** The registry's transport, loaded on first use. */
function backend(): Promise<RemoteCacheBackend> {
  return imageTransfer("cacheFrom").cacheBackend();
}

/**
 * Writes `document` to the registry cache `ref` (merged with what is there), fetching the layers
 * the store lacks through `fetchLayer`.
 *
 * @example
 * ```ts
 * const report = await saveBuildCache(store, "localhost:5000/app:cache", exported.document(finalStateId, "min"), (l) => remote.fetchForExport(l));
 * ```
 */
export async function saveBuildCache(store: ImageStore, ref: string, document: BuildCacheDocument, fetchLayer: (layer: LayerInfo) => Promise<void>): Promise<CacheExportReport> {
  return (await backend()).save(store, ref, document, fetchLayer);
}

/**
 * The imported caches of one build, seen through the local cache: steps and root filesystems by
 * key, earlier caches first; layers fetched on demand, once.
 */
export class RemoteCaches implements RemoteStepSource {
  readonly #caches: LoadedCache[];
  readonly #steps = new Map<string, { record: StepRecord; cache: LoadedCache }>();
  readonly #rootfs = new Map<string, { record: StepRecord; cache: LoadedCache }>();
  readonly #children = new Map<string, ChildSummary[]>();
  readonly #layers = new Map<string, { layer: LayerInfo; cache: LoadedCache }>();
  readonly #source = new WeakMap<StepRecord, LoadedCache>();
  readonly #fetches = new Map<string, Promise<void>>();
  readonly #hits = new Map<LoadedCache, Set<string>>();
  readonly #fetched = new Map<LoadedCache, { blobs: number; bytes: number; layers: string[] }>();
  /** Steps and root filesystems taken from a cache, to record them in the local cache. */
  readonly adopted = new Map<string, { kind: "step" | "rootfs"; record: StepRecord }>();

  private constructor(
    readonly store: ImageStore,
    caches: LoadedCache[],
  ) {
    this.#caches = caches;
    for (const cache of caches) {
      for (const step of cache.document.steps) {
        const record: StepRecord = { created: step.created, ...(step.layer === undefined ? {} : { layer: step.layer }) };
        if (!this.#steps.has(step.key)) this.#steps.set(step.key, { record, cache });
        this.#source.set(record, cache);
        const siblings = this.#children.get(step.parent) ?? [];
        if (!siblings.some((c) => c.instruction === step.instruction)) siblings.push({ instruction: step.instruction, inputs: step.inputs, at: step.created });
        this.#children.set(step.parent, siblings);
        if (step.layer !== undefined && !this.#layers.has(step.layer.digest)) this.#layers.set(step.layer.digest, { layer: step.layer, cache });
      }
      for (const entry of cache.document.rootfs) {
        const record: StepRecord = { created: entry.created, layer: entry.layer };
        if (!this.#rootfs.has(entry.hash)) this.#rootfs.set(entry.hash, { record, cache });
        this.#source.set(record, cache);
        if (!this.#layers.has(entry.layer.digest)) this.#layers.set(entry.layer.digest, { layer: entry.layer, cache });
      }
    }
  }

  /**
   * Reads each cache; one that cannot be used is left out and `warn` is told why.
   *
   * @example
   * ```ts
   * const remote = await RemoteCaches.open(store, ["localhost:5000/app:cache"], console.warn);
   * ```
   */
  static async open(store: ImageStore, refs: string[], warn: (message: string) => void): Promise<RemoteCaches> {
    const transport = await backend();
    const loaded = await Promise.all(
      refs.map(async (ref) => {
        try {
          return await transport.load(store, ref);
        } catch (e) {
          warn(`registry build cache ${ref} not used: ${(e as Error).message}`);
          return undefined;
        }
      }),
    );
    return new RemoteCaches(
      store,
      loaded.filter((c): c is LoadedCache => c !== undefined),
    );
  }

  step(key: string): StepRecord | undefined {
    return this.#steps.get(key)?.record;
  }

  rootfs(hash: string): StepRecord | undefined {
    return this.#rootfs.get(hash)?.record;
  }

  children(parentId: string): ChildSummary[] {
    return this.#children.get(parentId) ?? [];
  }

  hasLayer(digest: string): boolean {
    return this.#layers.has(digest);
  }

  /** The reference of the cache a record came from, when it came from one. */
  sourceOf(record: StepRecord): string | undefined {
    return this.#source.get(record)?.ref;
  }

  /** Notes that the build took `record` (a step's, or a root filesystem's) from a cache. */
  noteHit(kind: "step" | "rootfs", key: string, record: StepRecord): void {
    const cache = this.#source.get(record);
    if (cache === undefined) return;
    const hits = this.#hits.get(cache) ?? new Set<string>();
    hits.add(`${kind}:${key}`);
    this.#hits.set(cache, hits);
    this.adopted.set(`${kind}:${key}`, { kind, record });
  }

  /** Downloads the layers of `layers` that the store lacks and a cache holds. */
  async fetch(layers: readonly LayerInfo[]): Promise<void> {
    await Promise.all(layers.map((l) => this.#fetchOne(l.digest)));
  }

  /** Downloads one layer the store lacks (a hit never downloaded), for an export. */
  async fetchForExport(layer: LayerInfo): Promise<void> {
    await this.#fetchOne(layer.digest);
  }

  #fetchOne(digest: string): Promise<void> {
    let pending = this.#fetches.get(digest);
    if (pending === undefined) {
      pending = (async () => {
        const known = this.#layers.get(digest);
        if (known === undefined || (await this.store.hasBlob(known.layer.digest))) return;
        let bytes: number;
        try {
          bytes = await known.cache.fetchLayer(known.layer);
        } catch (e) {
          throw new CacheLayerUnavailableError(known.cache.ref, digest, { cause: e });
        }
        const counts = this.#fetched.get(known.cache) ?? { blobs: 0, bytes: 0, layers: [] };
        counts.blobs++;
        counts.bytes += bytes;
        counts.layers.push(digest);
        this.#fetched.set(known.cache, counts);
      })();
      this.#fetches.set(digest, pending);
      pending.catch(() => this.#fetches.delete(digest));
    }
    return pending;
  }

  /** What each cache gave. */
  reports(): CacheImportReport[] {
    return this.#caches.map((cache) => {
      const fetched = this.#fetched.get(cache) ?? { blobs: 0, bytes: 0, layers: [] };
      return {
        ref: cache.ref,
        steps: cache.document.steps.length,
        hits: [...(this.#hits.get(cache) ?? [])].filter((h) => h.startsWith("step:")).length,
        downloadedBlobs: cache.downloadedBlobs + fetched.blobs,
        downloadedBytes: cache.downloadedBytes + fetched.bytes,
        downloadedLayers: [...fetched.layers],
      };
    });
  }
}
