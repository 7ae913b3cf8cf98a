/**
 * The seam between the pure image layer and the build engine (`src/builder/`): the options and
 * results of `image.build()` and `Image.fromArchive()`, and the engine those calls go to. The
 * engine installs itself when its module loads, so `image/` never imports a layer above it.
 */
import type { LayerInfo } from "../store/types.js";
import type { ImageStore } from "../store/image-store.js";
import { InvalidOptionError } from "../errors.js";
import type { BuildCacheReport, CacheTarget } from "./build-cache-types.js";
import type { BuildProgressEvent } from "./build-progress.js";
import type { ImageConfig } from "./config.js";
import type { ImagePlan, RunNetwork } from "./plan.js";

/**
 * Options of `image.build()`.
 *
 * @example
 * ```ts
 * await image.build({ tag: "myapp:test", context: ".", buildArgs: { VERSION: "2" }, onProgress: console.log });
 * ```
 */
export interface BuildOptions {
  /** Tags to point at the image (one image per tag: a moved tag leaves the old image untagged). */
  tag?: string | string[];
  /**
   * The build context directory COPY and ADD read (default: the plan's, else the current
   * directory). Embedded Images (`from(image)`, `copy({ from: image })`) read their own plan's
   * context when they have one, else this one.
   */
  context?: string;
  /** Run every step again, ignoring the cache (the new results replace the cached ones). */
  noCache?: boolean;
  /**
   * Resolve the bases again, as `docker build --pull`: image references are pulled from their
   * registry even when the store has them (whatever `BENTO_PULL_POLICY` says), and root
   * filesystem directories are re-imported even when their tree looks unchanged.
   */
  pull?: boolean;
  /** `--build-arg` values: they override ARG defaults (and the plan's own build args). */
  buildArgs?: Record<string, string>;
  /**
   * The network of every RUN step that names none (`docker build --network`): "default" (its own
   * network namespace with outbound access; services bound to the host's loopback stay out of
   * reach), "host" (the host's network, as if each RUN had `--network=host`) or "none" (only lo).
   * A RUN step's own `--network` wins. A step run under another network than its own default is a
   * different cache entry.
   *
   * @example
   * ```ts
   * await image.build({ network: "host" }); // RUN steps reach a proxy on the host's 127.0.0.1
   * ```
   */
  network?: RunNetwork;
  /** Receives progress events. */
  onProgress?: (event: BuildProgressEvent) => void;
  /** The store to build in (default `Store.default()`). */
  store?: ImageStore;
  /**
   * Registry build caches to read (default `BENTO_CACHE_FROM`; `false`: none): a step whose key is
   * in one is a hit, and its layer is downloaded only if the final image holds it or a step that
   * runs needs it. A cache that is unreachable, corrupt or incomplete is skipped with a warning.
   */
  cacheFrom?: string | string[] | false;
  /**
   * The registry build cache to write after the build (default `BENTO_CACHE_TO`; `false`: none),
   * merged with the steps already there: a reference (mode `min`: the steps of the final image)
   * or `{ ref, mode: "max" }` (every step, other stages too). A failed export is a warning.
   */
  cacheTo?: CacheTarget | false;
}

/**
 * A built image.
 *
 * @example
 * ```ts
 * const { id, layers, config } = await image.build({ tag: "app:1" });
 * ```
 */
export interface BuildResult {
  /** The image id: `sha256:` of its config, as Docker's. */
  id: string;
  /** The digest of its manifest. */
  manifestDigest: string;
  /** The tags given, now pointing at it. */
  tags: string[];
  /** Its layers, base first. */
  layers: LayerInfo[];
  /** Its runtime config (Docker's field names). */
  config: ImageConfig;
  /** What the registry build caches gave and took, when the build used any. */
  cache?: BuildCacheReport;
}

/** Options of `Image.fromArchive()`. */
export interface FromArchiveOptions {
  /** The store to import into (default `Store.default()`). */
  store?: ImageStore;
  /** Which image of a multi-image archive, by one of its tags (default: the first image). */
  tag?: string;
}

/** The image a container runs: its id when it came from the store, its layer directories, its config. */
export interface CommitParent {
  /** The parent image's id, when the container ran a stored image. */
  imageId?: string;
  /** The container's lower directories, top-first; used when there is no image id (a root filesystem directory). */
  lowerDirs: readonly string[];
  /** The config the container ran with (the image's). */
  config: ImageConfig;
}

/** Options of `commit()` on a container (`running.commit()`). */
export interface CommitOptions {
  /** Tags to point at the new image. */
  tag?: string | string[];
  /** The store (default `Store.default()`). */
  store?: ImageStore;
  /** The commit message, kept in the history entry. */
  message?: string;
  /** The image's author. */
  author?: string;
  /** Config changes (`docker commit --change`): replace these fields of the parent's config. */
  changes?: Partial<ImageConfig>;
  /**
   * Pause a running container while its changes are copied (`docker commit --pause`, the
   * default: true). Rootless without a delegated cgroup a container cannot be paused, and is
   * committed running.
   */
  pause?: boolean;
  /** Mount targets of the container (volumes, binds, tmpfs) whose empty stubs are not changes. */
  mountTargets?: readonly string[];
}

/**
 * What `image.build()`, `Image.fromArchive()` and a container's `commit()` call: the build engine of `src/builder/`.
 *
 * @example
 * ```ts
 * installBuildEngine({ build: buildPlan, importArchive: importArchiveImage, commit: commitContainer });
 * ```
 */
export interface BuildEngine {
  /** Builds `plan` into the store and tags it. */
  build(plan: ImagePlan, options: BuildOptions): Promise<BuildResult>;
  /** Imports a `docker save` tar or OCI archive and returns the chosen image's reference. */
  importArchive(path: string, options: FromArchiveOptions): Promise<string>;
  /** Makes an image from a container's upper directory over its parent image. */
  commit(upperDir: string, parent: CommitParent, options: CommitOptions): Promise<BuildResult>;
}

let installed: BuildEngine | undefined;

/**
 * Installs the build engine (called once by `src/builder/index.ts` when it loads).
 *
 * @example
 * ```ts
 * installBuildEngine({ build: buildPlan, importArchive: importArchiveImage, commit: commitContainer });
 * ```
 */
export function installBuildEngine(engine: BuildEngine): void {
  installed = engine;
}

/**
 * The installed build engine; an error that names the fix when none is loaded.
 *
 * @example
 * ```ts
 * const result = await buildEngine("build").build(plan, { tag: "app:1" });
 * ```
 */
export function buildEngine(call: string): BuildEngine {
  if (installed === undefined) throw new InvalidOptionError(call, 'no build engine is loaded; import the Image from "bento" (which loads it) rather than from its source file');
  return installed;
}
