/**
 * One `buildPlan()` call: its options, store, local and registry caches, build contexts, progress
 * counters and warnings, shared by the plans it builds (plan-build.ts).
 */
import path from "node:path";
import { BentoError, InvalidOptionError } from "../errors.js";
import { buildCacheRef } from "../store/build-cache-ref.js";
import { ImageStore } from "../store/image-store.js";
import type { LayerInfo } from "../store/types.js";
import type { ImagePlan } from "../image/plan.js";
import { BuildCache, type StepRecord } from "./cache.js";
import { BuildContext, ContextRefusal } from "./context.js";
import { runtimeConfigOf, storedConfigOf } from "./oci-config.js";
import type { BuildCacheReport } from "../image/build-cache-types.js";
import type { BuildOptions, BuildResult } from "../image/build-engine.js";
import type { BuildProgressEvent, BuildStepEvent, RebuildCause } from "../image/build-progress.js";
import { CacheExport } from "./cache-export.js";
import { cacheSettings, type CacheSettings } from "./cache-settings.js";
import { RemoteCaches, saveBuildCache } from "./remote-cache.js";
import { PlanBuild } from "./plan-build.js";
import type { BuildState, StepOutcome } from "./build-state.js";

/** One build: what every plan of it shares. */
export class BuildRun {
  readonly store: ImageStore;
  cache: BuildCache;
  readonly options: BuildOptions;
  readonly caches: CacheSettings;
  remote: RemoteCaches | undefined;
  readonly exported = new CacheExport();
  readonly warnings: string[] = [];
  readonly #plans = new Map<string, PlanBuild>();
  readonly #started = performance.now();
  /** The context of the top plan (and of embedded plans without their own). */
  readonly contextDir: string;
  readonly #contexts = new Map<string, BuildContext>();
  step = 0;
  total = 0;
  cachedSteps = 0;

  constructor(
    readonly plan: ImagePlan,
    options: BuildOptions,
  ) {
    this.options = options;
    this.store = options.store ?? ImageStore.default();
    this.cache = new BuildCache(this.store);
    this.caches = cacheSettings(options);
    this.contextDir = path.resolve(options.context ?? plan.context ?? process.cwd());
  }

  async run(): Promise<BuildResult> {
    const top = new PlanBuild(this, this.plan, { ...this.plan.buildArgs, ...this.options.buildArgs }, this.contextDir);
    this.total = top.count();
    if (this.caches.from.length > 0 && this.options.noCache !== true) {
      this.remote = await RemoteCaches.open(this.store, this.caches.from, (message) => this.warn(message));
      this.cache = new BuildCache(this.store, this.remote);
    }
    const state = await top.target();
    const tags = this.options.tag === undefined ? [] : Array.isArray(this.options.tag) ? [...this.options.tag] : [this.options.tag];
    const image = state.image;
    if (image !== undefined) {
      // Nothing was added to a stored image: it is the result (as `docker build` of a bare FROM).
      for (const tag of tags) await this.store.tag(image.id, tag);
      this.emit({ type: "image", id: image.id, tags, cachedSteps: this.cachedSteps, total: this.total, durationMs: performance.now() - this.#started });
      return { id: image.id, manifestDigest: image.manifestDigest, tags, layers: image.layers, config: runtimeConfigOf(image.config.config), ...(await this.#finishCaches(state.id)) };
    }
    await this.remote?.fetch(state.layers);
    const written = await this.store.writeImage(
      {
        config: {
          ...(state.created === undefined ? {} : { created: state.created }),
          ...(state.author === undefined ? {} : { author: state.author }),
          os: "linux",
          config: storedConfigOf(state.config),
          history: state.history,
        },
        layers: state.layers,
      },
      // Untagged, it would be dangling, and a prune would take the build cache with it.
      { tags: tags.length > 0 ? tags : [buildCacheRef(state.id)] },
    );
    this.emit({ type: "image", id: written.id, tags, cachedSteps: this.cachedSteps, total: this.total, durationMs: performance.now() - this.#started });
    return { id: written.id, manifestDigest: written.manifestDigest, tags, layers: state.layers, config: state.config, ...(await this.#finishCaches(state.id)) };
  }

  emit(event: BuildProgressEvent): void {
    this.options.onProgress?.(event);
  }

  /** A registry cache that could not be used: a progress event, else a process warning. */
  warn(message: string): void {
    this.warnings.push(message);
    if (this.options.onProgress !== undefined) this.emit({ type: "warning", message });
    else process.emitWarning(message, { code: "BENTO_BUILD_CACHE" });
  }

  // Records the registry caches' hits in the store (those whose layers are here now), then writes
  // `cacheTo`. Nothing here fails the build: the image is built.
  async #finishCaches(finalStateId: string): Promise<{ cache?: BuildCacheReport }> {
    if (this.remote === undefined && this.caches.to === undefined && this.warnings.length === 0) return {};
    for (const [key, { kind, record }] of this.remote?.adopted ?? []) {
      if (record.layer !== undefined && !(await this.store.hasBlob(record.layer.digest))) continue;
      const name = key.slice(key.indexOf(":") + 1);
      if (kind === "step") await this.cache.putStep(name, record);
      else await this.cache.putRootfs(name, record);
    }
    const report: BuildCacheReport = { imports: this.remote?.reports() ?? [], warnings: this.warnings };
    const target = this.caches.to;
    if (target !== undefined) {
      try {
        report.export = await saveBuildCache(this.store, target.ref, this.exported.document(finalStateId, target.mode), (layer) => this.#layerForExport(layer));
      } catch (e) {
        this.warn(`registry build cache ${target.ref} not written: ${(e as Error).message}`);
      }
    }
    return { cache: report };
  }

  async #layerForExport(layer: LayerInfo): Promise<void> {
    if (this.remote === undefined) throw new BentoError("ERR_BUILD_CACHE", `layer ${layer.digest} is not in the store`);
    await this.remote.fetchForExport(layer);
  }

  // Records a step for the cache export, and a hit taken from a registry cache; returns that cache's reference.
  #noteStep(key: string, parent: BuildState, instruction: string, inputs: Record<string, string>, record: StepRecord, ran: boolean): string | undefined {
    this.exported.noteStep({ key, parent: parent.id, instruction, inputs, created: record.created, ...(record.layer === undefined ? {} : { layer: record.layer }) });
    const cacheRef = ran ? undefined : this.remote?.sourceOf(record);
    if (cacheRef !== undefined) this.remote?.noteHit("step", key, record);
    return cacheRef;
  }

  /** The build context in `dir`, opened (and its .dockerignore read) once per build. */
  context(dir: string): BuildContext {
    let context = this.#contexts.get(dir);
    if (context === undefined) {
      try {
        context = BuildContext.open(dir);
      } catch (e) {
        if (e instanceof ContextRefusal) throw new InvalidOptionError("build.context", `"${dir}": ${e.reason}`);
        throw e;
      }
      this.#contexts.set(dir, context);
    }
    return context;
  }

  /** The build of an embedded plan, one per distinct plan. */
  planBuild(plan: ImagePlan): PlanBuild {
    const key = JSON.stringify(plan);
    let build = this.#plans.get(key);
    if (build === undefined) {
      build = new PlanBuild(this, plan, { ...plan.buildArgs }, plan.context === undefined ? this.contextDir : path.resolve(plan.context));
      this.#plans.set(key, build);
    }
    return build;
  }

  /** The layer directories of `layers` (base first), top-first for overlayfs, unpacked on demand. */
  async lowerDirs(layers: readonly LayerInfo[]): Promise<string[]> {
    await this.remote?.fetch(layers);
    return this.store.lowerDirs(layers);
  }

  /**
   * Runs a step through the cache: a usable record is a hit; otherwise `build` runs under the
   * key's lock (unless another process finished it meanwhile) and its record is saved.
   */
  async cached(key: string, parent: BuildState, event: Omit<BuildStepEvent, "type" | "cached" | "cause" | "reason" | "total">, inputs: Record<string, string>, build: () => Promise<{ layer?: LayerInfo }>): Promise<StepOutcome> {
    const noCache = this.options.noCache === true;
    let why: { cause: RebuildCause; reason: string } | undefined;
    if (!noCache) {
      const record = await this.cache.step(key);
      if (record !== undefined) {
        if (await this.cache.usable(record)) {
          this.cachedSteps++;
          const cacheRef = this.#noteStep(key, parent, event.instruction, inputs, record, false);
          this.emit({ type: "step", ...event, total: this.total, cached: true, ...(cacheRef === undefined ? {} : { cacheRef }) });
          return { record, ran: false };
        }
        why = { cause: "layer-missing", reason: `the cached layer ${record.layer?.digest} is no longer in the store (pruned)` };
      }
    }
    why ??= noCache ? { cause: "no-cache", reason: "noCache: every step runs" } : await this.cache.explainMiss(parent.id, event.instruction, inputs, parent.rebuiltBy);
    this.emit({ type: "step", ...event, total: this.total, cached: false, ...why });
    const started = performance.now();
    const { record, ran } = await this.cache.withKeyLock(key, async () => {
      if (!noCache) {
        const again = await this.cache.step(key);
        if (again !== undefined && (await this.cache.usable(again))) return { record: again, ran: false };
      }
      const { layer } = await build();
      const fresh: StepRecord = { created: new Date().toISOString(), ...(layer === undefined ? {} : { layer }) };
      await this.cache.putStep(key, fresh);
      return { record: fresh, ran: true };
    });
    await this.cache.noteChild(parent.id, { instruction: event.instruction, inputs, at: record.created });
    this.#noteStep(key, parent, event.instruction, inputs, record, ran);
    this.emit({
      type: "step-done",
      step: event.step,
      total: this.total,
      stage: event.stage,
      instruction: event.instruction,
      durationMs: performance.now() - started,
      ...(record.layer === undefined ? {} : { layer: record.layer.diffId }),
    });
    return { record, ran };
  }
}
