/**
 * The registry build cache as `image.build({ cacheFrom, cacheTo })` names it: where a cache is
 * written and what reading and writing caches did. The engine that does it is src/builder/
 * (cache-settings.ts, remote-cache.ts); these types sit here so the image layer's build options
 * can name them without importing upward.
 */

/**
 * What a cache export holds, as BuildKit's modes: `min` the steps that lead to the final image
 * (its layers), `max` every step the build went through, other stages' too.
 *
 * @example
 * ```ts
 * const mode: CacheMode = "max";
 * await image.build({ cacheTo: { ref: "registry.example.com/app:buildcache", mode } });
 * ```
 */
export type CacheMode = "min" | "max";

/**
 * Where a build writes its cache: a registry reference (mode `min`), or one with a mode.
 *
 * @example
 * ```ts
 * const target: CacheTarget = { ref: "registry.example.com/app:buildcache", mode: "max" };
 * ```
 */
export type CacheTarget =
  | string
  | {
      /** The cache's reference, with a tag: `registry.example.com/app:buildcache`. */
      ref: string;
      /** What it holds; default `min`. */
      mode?: CacheMode;
    };

/**
 * What reading one cache did.
 *
 * @example
 * ```ts
 * const { cache } = await image.build({ cacheFrom: "registry.example.com/app:buildcache" });
 * for (const i of cache?.imports ?? []) console.log(i.ref, `${i.hits} hits`, `${i.downloadedBytes} bytes`);
 * ```
 */
export interface CacheImportReport {
  /** The cache's reference. */
  ref: string;
  /** Steps the cache holds. */
  steps: number;
  /** Steps of this build taken from it. */
  hits: number;
  /** Blobs downloaded from it (the manifest, the cache document, layers). */
  downloadedBlobs: number;
  /** Bytes downloaded from it. */
  downloadedBytes: number;
  /** The layers downloaded, by digest. */
  downloadedLayers: string[];
}

/**
 * What writing the cache did.
 *
 * @example
 * ```ts
 * const { cache } = await image.build({ cacheTo: "registry.example.com/app:buildcache" });
 * console.log(cache?.export?.manifestDigest, cache?.export?.uploadedBytes);
 * ```
 */
export interface CacheExportReport {
  /** The cache's reference. */
  ref: string;
  /** The mode it was written with. */
  mode: CacheMode;
  /** Steps in the cache now (this build's and those kept from before). */
  steps: number;
  /** Layers it references. */
  layers: number;
  /** Blobs uploaded (the registry lacked them). */
  uploadedBlobs: number;
  /** Bytes uploaded. */
  uploadedBytes: number;
  /** The digest of the cache manifest. */
  manifestDigest: string;
}

/**
 * The registry caches a build read and wrote, and the warnings of those that could not be used.
 *
 * @example
 * ```ts
 * const { cache } = await image.build({ cacheFrom: "registry.example.com/app:buildcache" });
 * for (const w of cache?.warnings ?? []) console.warn(w);
 * ```
 */
export interface BuildCacheReport {
  /** One per `cacheFrom` cache that could be read. */
  imports: CacheImportReport[];
  /** The `cacheTo` export, when it succeeded. */
  export?: CacheExportReport;
  /** Caches that were unreachable, corrupt or incomplete, and exports that failed. */
  warnings: string[];
}
