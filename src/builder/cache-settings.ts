/**
 * Which registry build caches a build reads and writes: the `cacheFrom` / `cacheTo` options,
 * checked, with the defaults of `BENTO_CACHE_FROM` / `BENTO_CACHE_TO`.
 */
import { config as bentoConfig } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import { parseReference } from "../store/reference.js";
import type { CacheMode, CacheTarget } from "../image/build-cache-types.js";

export type { CacheMode, CacheTarget } from "../image/build-cache-types.js";

/** The caches a build reads and writes, after options and `BENTO_CACHE_*` are applied. */
export interface CacheSettings {
  /** The caches to read, in order: a step found in an earlier one wins. */
  from: string[];
  /** The cache to write, if any. */
  to: { ref: string; mode: CacheMode } | undefined;
}

const REF_FIX = "use a registry reference such as registry.example.com/app:buildcache";

/**
 * Checks `cacheFrom` / `cacheTo` and applies the defaults from `BENTO_CACHE_FROM` / `BENTO_CACHE_TO`
 * (`false` turns a default off). A reference that does not parse, or a `cacheTo` by digest, is an
 * InvalidOptionError naming the option (or the variable).
 *
 * @example
 * ```ts
 * cacheSettings({ cacheTo: { ref: "localhost:5000/app:cache", mode: "max" } }); // { from: [...], to: { ref, mode: "max" } }
 * ```
 */
export function cacheSettings(options: { cacheFrom?: string | string[] | false; cacheTo?: CacheTarget | false }): CacheSettings {
  const cfg = bentoConfig();
  let from: string[];
  if (options.cacheFrom === undefined) from = cfg.cacheFrom;
  else if (options.cacheFrom === false) from = [];
  else {
    from = Array.isArray(options.cacheFrom) ? options.cacheFrom : [options.cacheFrom];
    for (const ref of from) if (typeof ref !== "string" || ref.trim() === "") throw new InvalidOptionError("build.cacheFrom", `expected a reference or a list of them; ${REF_FIX}`);
  }
  let to: CacheSettings["to"];
  const target = options.cacheTo;
  if (target === undefined) to = cfg.cacheTo;
  else if (target === false) to = undefined;
  else if (typeof target === "string") {
    if (target.trim() === "") throw new InvalidOptionError("build.cacheTo", `expected a reference; ${REF_FIX}`);
    to = { ref: target, mode: "min" };
  } else if (typeof target === "object" && target !== null && typeof target.ref === "string" && target.ref.trim() !== "") {
    const mode = target.mode ?? "min";
    if (mode !== "min" && mode !== "max") throw new InvalidOptionError("build.cacheTo.mode", `"${String(mode)}" is not a cache mode; use "min" (the final image's steps) or "max" (every step)`);
    to = { ref: target.ref, mode };
  } else {
    throw new InvalidOptionError("build.cacheTo", `expected a reference or { ref, mode }; ${REF_FIX}`);
  }
  from = [...new Set(from.map((r) => r.trim()))];
  for (const ref of from) checkReference(ref, options.cacheFrom === undefined ? "BENTO_CACHE_FROM" : "build.cacheFrom");
  if (to !== undefined) {
    const option = options.cacheTo === undefined ? "BENTO_CACHE_TO" : "build.cacheTo";
    if (checkReference(to.ref, option).digest !== undefined) throw new InvalidOptionError(option, `"${to.ref}" names a digest; a cache is written under a tag, such as registry.example.com/app:buildcache`);
  }
  return { from, to };
}

function checkReference(ref: string, option: string): ReturnType<typeof parseReference> {
  try {
    return parseReference(ref);
  } catch (e) {
    throw new InvalidOptionError(option, `${(e as Error).message}; ${REF_FIX}`);
  }
}
