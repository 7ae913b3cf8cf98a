/**
 * Turns embedded plans (`from(otherImage)`, `copy(..., { from: otherImage })`) into named stages of
 * one flat plan, as a multi-stage Dockerfile needs: each embedded plan's stages are renamed
 * `bento-image-<n>-<name or index>` and placed before the stages that use them.
 */
import type { ArgStep, ImagePlan, ImageStep } from "./plan.js";
import { findStage, splitStages, type PlanStage } from "./stages.js";

/** A plan's steps with every embedded plan hoisted into stages, plus notes on what could not be kept. */
export interface EmbeddedImages {
  steps: ImageStep[];
  notes: string[];
}

interface HoistContext {
  counter: number;
  metaArgs: ArgStep[];
  stages: ImageStep[];
  notes: string[];
}

/**
 * Hoists embedded plans into stages. A plan without embedded plans comes back as it is.
 *
 * @example
 * ```ts
 * const builder = Image.from("golang").run("go build -o /out/app");
 * embedImages(Image.from("scratch").copy("/out/app", "/app", { from: builder }).toPlan()).steps.length; // 4
 * ```
 */
export function embedImages(plan: ImagePlan): EmbeddedImages {
  if (!plan.steps.some(embeds)) return { steps: plan.steps, notes: [] };
  const context: HoistContext = { counter: 0, metaArgs: [], stages: [], notes: [] };
  // Hoisted stages come first, which shifts stage indexes: name the stages referred to by index.
  const byIndex = stagesReferencedByIndex(plan.steps);
  const named = renameStages(plan.steps, (stage) => stage.name ?? (byIndex.has(stage.index) ? `bento-stage-${stage.index}` : undefined));
  const body = replaceEmbedded(named, context, plan.escape ?? "\\");
  const firstFrom = body.findIndex((s) => s.kind === "from");
  const meta = firstFrom < 0 ? body : body.slice(0, firstFrom);
  const rest = firstFrom < 0 ? [] : body.slice(firstFrom);
  return { steps: [...meta, ...context.metaArgs, ...context.stages, ...rest], notes: context.notes };
}

function embeds(step: ImageStep): boolean {
  return (step.kind === "from" && step.base.type === "image") || (step.kind === "copy" && step.from?.type === "image");
}

function replaceEmbedded(steps: readonly ImageStep[], context: HoistContext, escape: string): ImageStep[] {
  return steps.map((step) => {
    if (step.kind === "from" && step.base.type === "image") return { ...step, base: { type: "stage", name: hoist(step.base.plan, context, escape) } };
    if (step.kind === "copy" && step.from?.type === "image") return { ...step, from: { type: "stage", name: hoist(step.from.plan, context, escape) } };
    return step;
  });
}

function hoist(embedded: ImagePlan, context: HoistContext, escape: string): string {
  const prefix = `bento-image-${++context.counter}-`;
  const renamed = renameStages(embedded.steps, (stage) => prefix + (stage.name ?? String(stage.index)));
  if ((embedded.escape ?? "\\") !== escape) context.notes.push(`stages ${prefix}* were written with escape character ${embedded.escape ?? "\\"}`);
  if (embedded.buildArgs !== undefined) context.notes.push(`stages ${prefix}* use build args ${JSON.stringify(embedded.buildArgs)}`);
  const inner = replaceEmbedded(renamed, context, escape);
  let last = "";
  for (const step of inner) {
    if (step.kind === "from") last = step.stage ?? "";
    if (last === "" && step.kind === "arg") context.metaArgs.push(step);
    else if (last !== "") context.stages.push(step);
  }
  return last;
}

/**
 * Gives every stage the name `nameOf` returns and rewrites the references to stages (FROM, a FROM
 * reference that names a stage, COPY --from, RUN --mount from=) to match.
 */
function renameStages(steps: readonly ImageStep[], nameOf: (stage: PlanStage) => string | undefined): ImageStep[] {
  const { stages } = splitStages({ version: 1, steps: [...steps] });
  const newName = new Map(stages.map((s) => [s.index, nameOf(s)]));
  let current = -1;
  const resolve = (name: string, literalOnly: boolean): string | undefined => {
    if (literalOnly && (/^\d+$/.test(name) || name.includes("$"))) return undefined;
    const stage = findStage(stages, name, current < 0 ? stages.length : current);
    return stage === undefined ? undefined : (newName.get(stage.index) ?? name);
  };
  return steps.map((step) => {
    if (step.kind === "from") {
      current++;
      const stage = newName.get(current);
      if (step.base.type === "stage") return { ...step, stage, base: { type: "stage", name: resolve(step.base.name, false) ?? step.base.name } };
      if (step.base.type === "ref") {
        const renamed = resolve(step.base.ref, true);
        if (renamed !== undefined) return { ...step, stage, base: { type: "stage", name: renamed } };
      }
      return { ...step, stage };
    }
    if (step.kind === "copy" && step.from !== undefined && step.from.type !== "image") {
      const text = step.from.type === "stage" ? step.from.name : step.from.ref;
      const renamed = resolve(text, step.from.type === "ref");
      if (renamed !== undefined) return { ...step, from: { type: "stage", name: renamed } };
    }
    if (step.kind === "run" && step.mounts?.some((m) => m.from !== undefined)) {
      return { ...step, mounts: step.mounts.map((m) => (m.from === undefined ? m : { ...m, from: resolve(m.from, true) ?? m.from })) };
    }
    return step;
  });
}

function stagesReferencedByIndex(steps: readonly ImageStep[]): Set<number> {
  const out = new Set<number>();
  const note = (name: string | undefined): void => {
    if (name !== undefined && /^\d+$/.test(name)) out.add(Number(name));
  };
  for (const step of steps) {
    if (step.kind === "from" && step.base.type === "stage") note(step.base.name);
    if (step.kind === "copy" && step.from?.type === "stage") note(step.from.name);
    if (step.kind === "run") for (const m of step.mounts ?? []) note(m.from);
  }
  return out;
}
