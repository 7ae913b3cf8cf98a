/**
 * The build executor: turns an image plan into an image in the store (DESIGN.md section 6).
 *
 * Only the stages the target needs are built, in order. Each stage starts from its base (scratch,
 * a root filesystem directory imported as a layer, an image in the store, an embedded plan, or an
 * earlier stage), runs the base's ONBUILD triggers, then its steps: config-only steps fold into
 * the config and make no layer; RUN runs in a build container on the parent's layers and its upper
 * directory becomes the layer; COPY and ADD lay their files out in a temp tree that becomes the
 * layer. Every step goes through the cache (cache.ts); progress events say which step, whether it
 * was cached and why it ran.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { BentoError, InvalidOptionError } from "../errors.js";
import { runBuildStep } from "../container/build-step.js";
import { buildCacheRef } from "../store/build-cache-ref.js";
import { ImageNotFoundError } from "../store/errors.js";
import { tempName } from "../store/fs-util.js";
import { ImageStore } from "../store/image-store.js";
import { imageTransfer } from "./image-transfer.js";
import type { HistoryEntry, LayerInfo } from "../store/types.js";
import { applyConfigStep, emptyImageConfig, envKey, startStage, type ConfigScope, type ImageConfig, type StageState } from "../image/config.js";
import { parseOnbuildTrigger } from "../image/dockerfile.js";
import { printStep } from "../image/dockerfile-printer.js";
import { hostPlatform, platformArgs } from "../image/image-config-of.js";
import type { AddStep, CopyStep, CopySource, FromStep, ImageBase, ImagePlan, ImageStep, RunStep } from "../image/plan.js";
import { processWord, type EscapeToken } from "../image/shell-lexer.js";
import { findStage, splitStages, type PlanStage } from "../image/stages.js";
import { expandFileStep } from "../image/step-expansion.js";
import { BuildCache, shortDigest, stateIdAfter, stepKey, hashParts, type StepRecord } from "./cache.js";
import { BuildContext, ContextRefusal } from "./context.js";
import { BaseImageNotFoundError, BuildContextError, BuildStepError, type StepPosition } from "./errors.js";
import { prepareFileStep, writeFileStep, type FileStepOrigin } from "./file-step.js";
import { LayeredView } from "./layered-view.js";
import { DestinationError, LayerTree } from "./layer-builder.js";
import { runtimeConfigOf, storedConfigOf } from "./oci-config.js";
import type { BuildCacheReport } from "../image/build-cache-types.js";
import type { BuildOptions, BuildResult } from "../image/build-engine.js";
import type { BuildProgressEvent, BuildStepEvent, RebuildCause } from "../image/build-progress.js";
import { CacheExport } from "./cache-export.js";
import { cacheSettings, type CacheSettings } from "./cache-settings.js";
import { CacheLayerUnavailableError, RemoteCaches, saveBuildCache } from "./remote-cache.js";
import { removeMountStubs, runArgv } from "./run-step.js";
import { rootfsLayer } from "./rootfs-layer.js";
import { missingWorkdir } from "./workdir.js";

/** A point in a build: the identity, layers and config after some step. */
interface BuildState {
  /** The cache identity (hex), see cache.ts. */
  id: string;
  layers: LayerInfo[];
  config: ImageConfig;
  history: HistoryEntry[];
  created: string | undefined;
  author: string | undefined;
  /** The step of this build that ran (missed the cache) and led to this state, if one did. */
  rebuiltBy: number | undefined;
  /** The stored image this state is, unchanged (a stage that starts from an image and adds nothing). */
  imageId?: string;
}

interface StepOutcome {
  record: StepRecord;
  ran: boolean;
}

const OUTPUT_TAIL_LINES = 20;
const CONFIG_ONLY = new Set<ImageStep["kind"]>(["arg", "env", "workdir", "user", "label", "expose", "volume", "healthcheck", "shell", "stopSignal", "onbuild", "entrypoint", "cmd", "maintainer"]);

/**
 * Builds a plan into the store and tags it.
 *
 * @example
 * ```ts
 * const result = await buildPlan(Image.fromRootfs(dir).run("echo hi > /hi").toPlan(), { tag: "hi:1" });
 * ```
 */
export async function buildPlan(plan: ImagePlan, options: BuildOptions = {}): Promise<BuildResult> {
  checkOptions(options);
  const first = new BuildRun(plan, options);
  try {
    return await first.run();
  } catch (e) {
    if (!(e instanceof CacheLayerUnavailableError)) throw e;
    // What the first attempt built is in the local cache; the rest runs again.
    const again = new BuildRun(plan, { ...options, cacheFrom: false });
    again.warnings.push(...first.warnings);
    again.warn(`${e.message}; building again without the registry caches`);
    return again.run();
  }
}

function checkOptions(options: BuildOptions): void {
  if (typeof options !== "object" || options === null) throw new InvalidOptionError("build", "expected an options object");
  const tags = options.tag === undefined ? [] : Array.isArray(options.tag) ? options.tag : [options.tag];
  for (const tag of tags) if (typeof tag !== "string" || tag === "") throw new InvalidOptionError("build.tag", "expected a tag such as \"myapp:test\"");
  if (options.context !== undefined && (typeof options.context !== "string" || options.context === "")) throw new InvalidOptionError("build.context", "expected a directory path");
  for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
    if (typeof value !== "string") throw new InvalidOptionError(`build.buildArgs.${key}`, "expected a string");
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new InvalidOptionError("build.onProgress", "expected a function");
  if (options.store !== undefined && !(options.store instanceof ImageStore)) throw new InvalidOptionError("build.store", "expected a Store (Store.open(dir) or Store.default())");
  cacheSettings(options);
}

class BuildRun {
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
    if (state.imageId !== undefined) {
      // Nothing was added to a stored image: it is the result (as `docker build` of a bare FROM).
      for (const tag of tags) await this.store.tag(state.imageId, tag);
      const image = await this.store.resolve(state.imageId);
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
    const dirs = await Promise.all(layers.map((l) => this.store.layerDir(l.diffId, l)));
    const seen = new Set<string>();
    return dirs.reverse().filter((d) => (seen.has(d) ? false : (seen.add(d), true)));
  }

  /**
   * Runs a step through the cache: a usable record is a hit; otherwise `build` runs under the
   * key's lock (unless another process finished it meanwhile) and its record is saved.
   */
  async cached(
    key: string,
    parent: BuildState,
    event: Omit<BuildStepEvent, "type" | "cached" | "cause" | "reason" | "total">,
    inputs: Record<string, string>,
    build: () => Promise<{ layer?: LayerInfo }>,
  ): Promise<StepOutcome> {
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

/** The build of one plan (the top one, or one embedded with `from(image)` / `copy({ from: image })`). */
class PlanBuild {
  readonly stages: PlanStage[];
  readonly escape: EscapeToken;
  readonly #metaScope: Record<string, string | undefined>;
  readonly #fromVars: Record<string, string>;
  readonly #states = new Map<number, Promise<BuildState>>();
  readonly #counted = new Set<number>();
  #countedPlan = false;

  constructor(
    readonly run: BuildRun,
    readonly plan: ImagePlan,
    readonly buildArgs: Record<string, string>,
    /** Where this plan's COPY and ADD read. */
    readonly contextDir: string,
  ) {
    const { metaArgs, stages } = splitStages(plan);
    if (stages.length === 0) throw new InvalidOptionError("build", "the plan has no from step, so there is no image to build; start with Image.from(ref), Image.fromRootfs(dir) or .from()");
    this.stages = stages;
    this.escape = plan.escape ?? "\\";
    // Global ARGs: each default sees the earlier ones and the automatic platform ARGs, which
    // stages may also declare (`ARG TARGETARCH`) to use.
    const platform = platformArgs(hostPlatform());
    this.#fromVars = { ...platform };
    this.#metaScope = { ...platform };
    for (const step of metaArgs) {
      for (const arg of step.args) {
        const value = Object.hasOwn(buildArgs, arg.name) ? buildArgs[arg.name] : arg.default === undefined ? undefined : processWord(arg.default, this.#fromVars, { escape: this.escape });
        this.#metaScope[arg.name] = value;
        if (value !== undefined) this.#fromVars[arg.name] = value;
      }
    }
  }

  /** The state at the end of the plan's last stage. */
  target(): Promise<BuildState> {
    return this.stageState((this.stages[this.stages.length - 1] as PlanStage).index);
  }

  /** Counts the steps of the stages the target needs (once per plan), embedded plans included. */
  count(): number {
    if (this.#countedPlan) return 0;
    this.#countedPlan = true;
    const needed = new Set<number>();
    const plans: ImagePlan[] = [];
    const visit = (index: number): void => {
      if (needed.has(index)) return;
      needed.add(index);
      const deps = this.#staticDeps(this.stages[index] as PlanStage);
      for (const dep of deps.stages) visit(dep);
      plans.push(...deps.plans);
    };
    visit(this.stages.length - 1);
    let total = 0;
    for (const index of needed) {
      this.#counted.add(index);
      total += 1 + (this.stages[index] as PlanStage).steps.length;
    }
    for (const plan of plans) total += this.run.planBuild(plan).count();
    return total;
  }

  /** The state at the end of stage `index`, built once. */
  stageState(index: number): Promise<BuildState> {
    let state = this.#states.get(index);
    if (state === undefined) {
      if (!this.#counted.has(index)) {
        this.#counted.add(index);
        this.run.total += 1 + (this.stages[index] as PlanStage).steps.length;
      }
      state = this.#buildStage(this.stages[index] as PlanStage);
      this.#states.set(index, state);
    }
    return state;
  }

  // Stages and plans a stage needs, as far as they are known before building: FROM and COPY
  // --from names, expanded with the global ARGs (a --from name using stage variables is found
  // when the step runs).
  #staticDeps(stage: PlanStage): { stages: number[]; plans: ImagePlan[] } {
    const stages: number[] = [];
    const plans: ImagePlan[] = [];
    const byName = (name: string, literalOnly: boolean): void => {
      const expanded = name.includes("$") ? this.#expandFrom(name) : name;
      if (literalOnly && /^\d+$/.test(expanded)) return;
      const found = findStage(this.stages, expanded, stage.index);
      if (found !== undefined) stages.push(found.index);
    };
    const base = stage.from.base;
    if (base.type === "stage") byName(base.name, false);
    else if (base.type === "ref") byName(base.ref, true);
    else if (base.type === "image") plans.push(base.plan);
    for (const step of stage.steps) {
      if (step.kind !== "copy" || step.from === undefined) continue;
      if (step.from.type === "stage") byName(step.from.name, false);
      else if (step.from.type === "ref") byName(step.from.ref, true);
      else plans.push(step.from.plan);
    }
    return { stages, plans };
  }

  #expandFrom(word: string): string {
    try {
      return processWord(word, this.#fromVars, { escape: this.escape });
    } catch {
      return word;
    }
  }

  async #buildStage(stage: PlanStage): Promise<BuildState> {
    // Earlier stages first, so step numbers follow the Dockerfile's order.
    for (const dep of this.#staticDeps(stage).stages) await this.stageState(dep);
    const stageName = stage.name ?? String(stage.index);
    const fromInstruction = fromText(stage.from, this.escape);
    const fromStep = ++this.run.step;
    const position: StepPosition = this.#position(fromStep, stage.from, fromInstruction);
    const { state: base, event } = await this.#base(stage, position);
    this.run.emit({ type: "step", step: fromStep, total: this.run.total, stage: stageName, instruction: fromInstruction, ...event });
    if (event.cached) this.run.cachedSteps++;

    const triggers: ImageStep[] = [];
    for (const trigger of base.config.OnBuild ?? []) {
      try {
        triggers.push(...parseOnbuildTrigger(trigger));
      } catch (e) {
        throw new BuildStepError(position, { reason: `the base image's ONBUILD trigger ${JSON.stringify(trigger)} is invalid: ${(e as Error).message}` }, { cause: e });
      }
    }
    this.run.total += triggers.length;
    let config: StageState = startStage(base.config);
    let state: BuildState = { ...base, config: config.config };
    const declared = new Set<string>();
    const scope: ConfigScope = { buildArgs: this.buildArgs, metaArgs: this.#metaScope, escape: this.escape };
    for (const step of [...triggers, ...stage.steps]) {
      const n = ++this.run.step;
      const instruction = stepText(step, this.escape);
      const pos = this.#position(n, step, instruction);
      const event = { step: n, stage: stageName, instruction };
      if (CONFIG_ONLY.has(step.kind)) {
        let next: StageState;
        try {
          next = applyConfigStep(config, step, scope);
        } catch (e) {
          throw new BuildStepError(pos, { reason: (e as Error).message }, { cause: e });
        }
        if (step.kind === "arg") for (const arg of step.args) declared.add(arg.name);
        const inputs: Record<string, string> = { config: shortDigest(JSON.stringify(next.config)) };
        if (step.kind === "env") for (const key of Object.keys(next.vars)) if (next.vars[key] !== config.vars[key]) inputs[`var:${key}`] = shortDigest(next.vars[key] ?? "");
        const key = stepKey(state.id, instruction, inputs);
        // WORKDIR creates its directory when the image lacks it (the only config step that can
        // make a layer, as BuildKit's does); the others never touch the file system.
        const build = step.kind === "workdir" ? () => this.#workdirLayer(state, next.config, pos) : async () => ({});
        const outcome = await this.run.cached(key, state, event, inputs, build);
        state = {
          ...this.#afterLayerStep(state, key, outcome, event),
          config: next.config,
          author: step.kind === "maintainer" ? step.name : state.author,
        };
        config = next;
        continue;
      }
      if (step.kind === "run") state = await this.#run(step, state, config, declared, pos, event);
      else if (step.kind === "copy" || step.kind === "add") state = await this.#fileStep(step, state, config, stage, pos, event);
      else throw new BentoError("ERR_INVALID_STEP", `a ${step.kind} step inside a stage`);
    }
    return state;
  }

  #position(step: number, planStep: ImageStep, instruction: string): StepPosition {
    return {
      step,
      total: this.run.total,
      instruction,
      ...(this.plan.dockerfile === undefined ? {} : { file: this.plan.dockerfile }),
      ...(planStep.location === undefined ? {} : { line: planStep.location.line }),
    };
  }

  async #base(stage: PlanStage, position: StepPosition): Promise<{ state: BuildState; event: { cached: boolean; cause?: RebuildCause; reason?: string } }> {
    const base: ImageBase = stage.from.base;
    const pull = this.run.options.pull === true;
    switch (base.type) {
      case "scratch":
        return { state: scratchState(), event: { cached: true } };
      case "rootfs": {
        let imported;
        try {
          imported = await rootfsLayer(this.run.store, this.run.cache, base.path, pull);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const reason = code === "ENOENT" || code === "ENOTDIR" ? `the root filesystem "${base.path}" does not exist or is not a directory; pass an existing directory to Image.fromRootfs()` : `cannot import the root filesystem "${base.path}": ${(e as Error).message}`;
          throw new BuildStepError(position, { reason }, { cause: e });
        }
        const fromCache = this.run.remote?.rootfs(imported.hash);
        if (!imported.imported && fromCache?.layer?.digest === imported.layer.digest) this.run.remote?.noteHit("rootfs", imported.hash, fromCache);
        this.run.exported.noteRootfs({ hash: imported.hash, created: imported.created, layer: imported.layer });
        const state: BuildState = {
          id: hashParts("rootfs", imported.layer.diffId),
          layers: [imported.layer],
          config: emptyImageConfig(),
          history: [{ created: imported.created, created_by: `bento: root filesystem ${base.path}` }],
          created: imported.created,
          author: undefined,
          rebuiltBy: undefined,
        };
        const event = imported.imported
          ? { cached: false, cause: (pull ? "pull" : "new") as RebuildCause, reason: pull ? "pull: the root filesystem was imported again" : "the root filesystem's tree is new or changed, so it was imported" }
          : { cached: true };
        return { state, event };
      }
      case "stage": {
        const found = findStage(this.stages, base.name, stage.index);
        if (found === undefined) throw new BuildStepError(position, { reason: `no stage "${base.name}" before this one` });
        return { state: await this.stageState(found.index), event: { cached: true } };
      }
      case "image":
        return { state: await this.run.planBuild(base.plan).target(), event: { cached: true } };
      case "ref": {
        const ref = this.#expandFrom(base.ref);
        const found = /^\d+$/.test(ref) ? undefined : findStage(this.stages, ref, stage.index);
        if (found !== undefined) return { state: await this.stageState(found.index), event: { cached: true } };
        if (ref === "scratch") return { state: scratchState(), event: { cached: true } };
        return { state: await this.#imageState(ref), event: pull ? { cached: false, cause: "pull", reason: `pull: "${ref}" was resolved again in the store` } : { cached: true } };
      }
      default: {
        const unknown: never = base;
        throw new BentoError("ERR_INVALID_PLAN", `unknown base type ${JSON.stringify((unknown as { type: unknown }).type)}`);
      }
    }
  }

  async #imageState(ref: string): Promise<BuildState> {
    let image;
    try {
      // The store, else its registry, as BENTO_PULL_POLICY says; `pull` always asks the registry.
      image = await imageTransfer("build").ensure(this.run.store, ref, this.run.options.pull === true ? { policy: "always" } : {});
    } catch (e) {
      if (e instanceof ImageNotFoundError || (e instanceof BentoError && e.code.startsWith("ERR_REGISTRY")) || (e instanceof BentoError && e.code === "ERR_MANIFEST_UNKNOWN")) {
        throw new BaseImageNotFoundError(ref, this.run.store.root, { cause: e });
      }
      throw e;
    }
    return {
      id: hashParts("image", image.id),
      layers: image.layers,
      config: runtimeConfigOf(image.config.config),
      history: [...(image.config.history ?? [])],
      created: image.config.created,
      author: image.config.author,
      rebuiltBy: undefined,
      imageId: image.id,
    };
  }

  async #run(step: RunStep, state: BuildState, config: StageState, declared: ReadonlySet<string>, position: StepPosition, event: { step: number; stage: string; instruction: string }): Promise<BuildState> {
    if (step.mounts !== undefined && step.mounts.length > 0) {
      throw new BuildStepError(position, { reason: "RUN --mount is not supported by bento's build engine yet (the build container has no extra mounts); copy what the step needs with COPY instead" });
    }
    if (step.security === "insecure") throw new BuildStepError(position, { reason: "RUN --security=insecure is not supported: build containers never get extra privileges" });
    // ARGs in scope reach RUN as environment variables, unless an ENV of the same name overrides them.
    const envNames = new Set(config.config.Env.map(envKey));
    const env: Record<string, string> = {};
    for (const name of declared) {
      const value = config.vars[name];
      if (value !== undefined && !envNames.has(name)) env[name] = value;
    }
    for (const { key, value } of step.env ?? []) env[key] = value;
    const inputs: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) inputs[`var:${name}`] = shortDigest(value);
    const key = stepKey(state.id, event.instruction, inputs);
    const argv = runArgv(step, config.config.Shell);
    const outcome = await this.run.cached(key, state, event, inputs, async () => {
      const lowerDirs = await this.run.lowerDirs(state.layers);
      const view = new LayeredView(lowerDirs);
      let result;
      try {
        result = await runBuildStep({
          lowerDirs,
          // Build containers get no anonymous volumes (VOLUME) and no healthcheck.
          config: { ...config.config, Volumes: {}, Healthcheck: undefined },
          argv,
          env,
          network: step.network ?? "default",
          onOutput: (line) => this.run.emit({ type: "output", step: event.step, stream: line.stream === "stderr" ? "stderr" : "stdout", text: line.text }),
        });
      } catch (e) {
        throw new BuildStepError(position, { reason: `the build container could not run: ${(e as Error).message}` }, { cause: e });
      }
      try {
        if (result.exitCode !== 0 || result.signal !== undefined) {
          throw new BuildStepError(position, { exitCode: result.exitCode, ...(result.signal === undefined ? {} : { signal: result.signal }), outputTail: tailLines(result.output, OUTPUT_TAIL_LINES) });
        }
        const empty = removeMountStubs(result.upperDir, view);
        return empty ? {} : { layer: await this.run.store.createLayerFromDir(result.upperDir) };
      } finally {
        await result.remove();
      }
    });
    return this.#afterLayerStep(state, key, outcome, event);
  }

  // The layer of a WORKDIR whose directory (or a parent) the image lacks: the directories, mode
  // 0755, owned by the USER in effect (workdir.ts); no layer when it exists.
  async #workdirLayer(state: BuildState, config: ImageConfig, position: StepPosition): Promise<{ layer?: LayerInfo }> {
    const view = new LayeredView(await this.run.lowerDirs(state.layers));
    let missing;
    try {
      missing = missingWorkdir(view, config);
    } catch (e) {
      throw new BuildStepError(position, { reason: (e as Error).message }, { cause: e });
    }
    if (missing === undefined) return {};
    const root = path.join(this.run.store.tmpDir, tempName());
    mkdirSync(root, { mode: 0o755 });
    try {
      const tree = new LayerTree(root, view, { uid: 0, gid: 0 }, new Map(missing.dirs.map((d) => [d, missing.owner])));
      try {
        tree.ensureDir(missing.dirs[missing.dirs.length - 1] as string);
      } catch (e) {
        if (e instanceof DestinationError) throw new BuildStepError(position, { reason: `WORKDIR ${config.WorkingDir}: ${e.message}` }, { cause: e });
        throw e;
      }
      tree.finish();
      return { layer: await this.run.store.createLayerFromDir(root) };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  async #fileStep(step: CopyStep | AddStep, state: BuildState, config: StageState, stage: PlanStage, position: StepPosition, event: { step: number; stage: string; instruction: string }): Promise<BuildState> {
    let expanded: CopyStep | AddStep;
    try {
      expanded = expandFileStep(step, config.vars, this.escape);
    } catch (e) {
      throw new BuildStepError(position, { reason: (e as Error).message }, { cause: e });
    }
    const origin: FileStepOrigin = { context: () => this.run.context(this.contextDir), tmpDir: this.run.store.tmpDir };
    if (expanded.kind === "copy" && expanded.from !== undefined) {
      const source = await this.#copySource(expanded.from, stage, position);
      origin.from = { view: new LayeredView(await this.run.lowerDirs(source.state.layers)), id: source.state.id, name: source.name };
    }
    let prepared;
    try {
      prepared = await prepareFileStep(expanded, origin);
    } catch (e) {
      if (e instanceof ContextRefusal) throw new BuildContextError(position, e.source, e.reason);
      throw e;
    }
    try {
      const key = stepKey(state.id, event.instruction, prepared.inputs);
      const outcome = await this.run.cached(key, state, event, prepared.inputs, async () => {
        const view = new LayeredView(await this.run.lowerDirs(state.layers));
        const root = path.join(this.run.store.tmpDir, tempName());
        mkdirSync(root, { mode: 0o755 });
        try {
          await writeFileStep(prepared, root, view, config.config, origin);
          return { layer: await this.run.store.createLayerFromDir(root) };
        } catch (e) {
          if (e instanceof DestinationError) throw new BuildStepError(position, { reason: e.message }, { cause: e });
          if (e instanceof ContextRefusal) throw new BuildContextError(position, e.source, e.reason, { cause: e });
          throw new BuildStepError(position, { reason: (e as Error).message }, { cause: e });
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      });
      return this.#afterLayerStep(state, key, outcome, event);
    } finally {
      prepared.cleanup();
    }
  }

  async #copySource(from: CopySource, stage: PlanStage, position: StepPosition): Promise<{ state: BuildState; name: string }> {
    switch (from.type) {
      case "stage": {
        const found = findStage(this.stages, from.name, stage.index);
        if (found === undefined) throw new BuildStepError(position, { reason: `COPY --from=${from.name}: no stage of that name (or index) before this one` });
        return { state: await this.stageState(found.index), name: `stage "${from.name}"` };
      }
      case "image":
        return { state: await this.run.planBuild(from.plan).target(), name: "the --from image" };
      case "ref": {
        const found = /^\d+$/.test(from.ref) ? undefined : findStage(this.stages, from.ref, stage.index);
        if (found !== undefined) return { state: await this.stageState(found.index), name: `stage "${from.ref}"` };
        return { state: await this.#imageState(from.ref), name: `image "${from.ref}"` };
      }
      default: {
        const unknown: never = from;
        throw new BentoError("ERR_INVALID_PLAN", `unknown COPY --from type ${JSON.stringify((unknown as { type: unknown }).type)}`);
      }
    }
  }

  #afterLayerStep(state: BuildState, key: string, outcome: StepOutcome, event: { step: number; instruction: string }): BuildState {
    const layer = outcome.record.layer;
    return {
      ...state,
      imageId: undefined,
      id: stateIdAfter(key, layer?.diffId),
      layers: layer === undefined ? state.layers : [...state.layers, layer],
      history: [...state.history, { created: outcome.record.created, created_by: event.instruction, ...(layer === undefined ? { empty_layer: true } : {}) }],
      created: outcome.record.created,
      rebuiltBy: outcome.ran ? event.step : state.rebuiltBy,
    };
  }
}

// The Dockerfile form of a step without the printer's `# bento:` notes (the command line itself
// carries what they describe).
function stepText(step: ImageStep, escape: EscapeToken): string {
  return printStep(step, escape)
    .split("\n")
    .filter((line) => !line.startsWith("# bento:"))
    .join("\n");
}

// A rootfs base has no Dockerfile form (the printer writes a comment); progress names the directory.
function fromText(from: FromStep, escape: EscapeToken): string {
  if (from.base.type !== "rootfs") return printStep(from, escape);
  return `FROM ${from.base.path} (root filesystem directory)${from.stage === undefined ? "" : ` AS ${from.stage}`}`;
}

function scratchState(): BuildState {
  return { id: hashParts("scratch"), layers: [], config: emptyImageConfig(), history: [], created: undefined, author: undefined, rebuiltBy: undefined };
}

function tailLines(output: string, count: number): string[] {
  const lines = output.replace(/\n$/, "").split("\n");
  return lines.slice(-count).filter((l, i, all) => l !== "" || i < all.length - 1);
}

