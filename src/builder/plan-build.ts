/**
 * The build of one plan: the stages its target needs, in order, each from its base (scratch, a
 * root filesystem, a stored image, an embedded plan or an earlier stage) through its ONBUILD
 * triggers and steps. Config-only steps fold into the config; RUN and WORKDIR layers are made in
 * layer-steps.ts; COPY and ADD here, since their --from sources are other stages.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { BentoError, InvalidOptionError } from "../errors.js";
import { ImageNotFoundError } from "../store/errors.js";
import { tempName } from "../store/fs-util.js";
import { imageTransfer } from "./image-transfer.js";
import { applyConfigStep, emptyImageConfig, startStage, type ConfigScope, type StageState } from "../image/config.js";
import { parseOnbuildTrigger } from "../image/dockerfile.js";
import { hostPlatform, platformArgs } from "../image/image-config-of.js";
import type { AddStep, CopyStep, CopySource, ImageBase, ImagePlan, ImageStep } from "../image/plan.js";
import { processWord, type EscapeToken } from "../image/shell-lexer.js";
import { findStage, splitStages, type PlanStage } from "../image/stages.js";
import { expandFileStep } from "../image/step-expansion.js";
import { shortDigest, stepKey, hashParts } from "./cache.js";
import { ContextRefusal } from "./context.js";
import { BaseImageNotFoundError, BuildContextError, BuildStepError, type StepPosition } from "./errors.js";
import { prepareFileStep, writeFileStep, type FileStepOrigin } from "./file-step.js";
import { LayeredView } from "./layered-view.js";
import { DestinationError } from "./layer-builder.js";
import { runtimeConfigOf } from "./oci-config.js";
import type { RebuildCause } from "../image/build-progress.js";
import { rootfsLayer } from "./rootfs-layer.js";
import type { BuildRun } from "./build-run.js";
import { afterLayerStep, CONFIG_ONLY, fromText, scratchState, stepText, type BuildState } from "./build-state.js";
import { runLayerStep, workdirLayer } from "./layer-steps.js";
import { layerOfTree } from "./layer-of-tree.js";
import { readableSource, type ReadableSource } from "./readable-source.js";
import { isRootless } from "../runtime/user-namespace.js";

/** The build of one plan (the top one, or one embedded with `from(image)` / `copy({ from: image })`). */
export class PlanBuild {
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
        const build = step.kind === "workdir" ? () => workdirLayer(this.run, state, next.config, pos) : async () => ({});
        const outcome = await this.run.cached(key, state, event, inputs, build);
        state = {
          ...afterLayerStep(state, key, outcome, event),
          config: next.config,
          author: step.kind === "maintainer" ? step.name : state.author,
        };
        config = next;
        continue;
      }
      if (step.kind === "run") state = await runLayerStep(this.run, step, state, config, declared, pos, event);
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
          const reason =
            code === "ENOENT" || code === "ENOTDIR"
              ? `the root filesystem "${base.path}" does not exist or is not a directory; pass an existing directory to Image.fromRootfs()`
              : `cannot import the root filesystem "${base.path}": ${(e as Error).message}`;
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
      image,
    };
  }

  async #fileStep(step: CopyStep | AddStep, state: BuildState, config: StageState, stage: PlanStage, position: StepPosition, event: { step: number; stage: string; instruction: string }): Promise<BuildState> {
    let expanded: CopyStep | AddStep;
    try {
      expanded = expandFileStep(step, config.vars, this.escape);
    } catch (e) {
      throw new BuildStepError(position, { reason: (e as Error).message }, { cause: e });
    }
    const origin: FileStepOrigin = { context: () => this.run.context(this.contextDir), tmpDir: this.run.store.tmpDir };
    let readable: ReadableSource | undefined;
    if (expanded.kind === "copy" && expanded.from !== undefined) {
      const source = await this.#copySource(expanded.from, stage, position);
      const dirs = await this.run.lowerDirs(source.state.layers);
      // Rootless, the image's files of other container users are read through a copy root of the user namespace makes.
      if (isRootless()) readable = await readableSource(dirs, expanded.sources, this.run.store.tmpDir);
      origin.from = { view: readable?.view ?? new LayeredView(dirs), id: source.state.id, name: source.name, ...(readable ? { owners: readable.owners } : {}) };
    }
    let prepared;
    try {
      prepared = await prepareFileStep(expanded, origin);
    } catch (e) {
      readable?.remove();
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
          return { layer: await layerOfTree(this.run.store, root, true) };
        } catch (e) {
          if (e instanceof DestinationError) throw new BuildStepError(position, { reason: e.message }, { cause: e });
          if (e instanceof ContextRefusal) throw new BuildContextError(position, e.source, e.reason, { cause: e });
          throw new BuildStepError(position, { reason: (e as Error).message }, { cause: e });
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      });
      return afterLayerStep(state, key, outcome, event);
    } finally {
      prepared.cleanup();
      readable?.remove();
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
}
