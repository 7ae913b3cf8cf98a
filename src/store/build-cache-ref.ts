/**
 * The names images built without a tag are stored under, so that they are not "dangling": a
 * build from code (`new Container(image)` builds it) has no tag, and pruning dangling images
 * would throw its cache away and make the next run rebuild everything. The tag is the build's
 * cache key (parent, instruction and inputs of every step), so the same plan always gets the same
 * name and `bento images` shows what is build cache. `bento prune --all` removes them, as
 * `docker builder prune -a` separates the build cache from images.
 */

/** The repository of build-cache images. */
export const BUILD_CACHE_REPOSITORY = "bento-build-cache";

/**
 * The reference of the image a build without a tag made, from its cache key (hex).
 *
 * @example
 * ```ts
 * buildCacheRef("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"); // "bento-build-cache:9f86d081884c7d659a2feaa0c55ad015"
 * ```
 */
export function buildCacheRef(cacheKey: string): string {
  return `${BUILD_CACHE_REPOSITORY}:${cacheKey.slice(0, 32)}`;
}
