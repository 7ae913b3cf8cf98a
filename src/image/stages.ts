/**
 * Stage structure of a plan: the flat step list cut at each `from`. Used by the config fold, the
 * printer and the build executor (which builds only the stages the last one needs).
 */
import type { ArgStep, FromStep, ImagePlan, ImageStep } from "./plan.js";

/** One stage: its FROM step and the steps after it, up to the next FROM. */
export interface PlanStage {
  /** 0-based position among the plan's stages. */
  index: number;
  /** The `AS` name, when there is one. */
  name: string | undefined;
  from: FromStep;
  /** The steps after `from`, in order. */
  steps: ImageStep[];
  /** Index of `from` in `plan.steps`, to map a stage step back to the plan. */
  fromIndex: number;
}

/** A plan cut into its global ARGs and its stages. */
export interface PlanStages {
  /** ARG steps before the first FROM: in scope for FROM lines only. */
  metaArgs: ArgStep[];
  stages: PlanStage[];
}

/**
 * Cuts a plan into global ARGs and stages. Steps other than ARG before the first FROM are not
 * allowed; `Image.fromPlan()` rejects such plans.
 *
 * @example
 * ```ts
 * const { stages } = splitStages(Image.from("alpine").run("make").toPlan());
 * stages[0]?.steps.length; // 1
 * ```
 */
export function splitStages(plan: ImagePlan): PlanStages {
  const metaArgs: ArgStep[] = [];
  const stages: PlanStage[] = [];
  plan.steps.forEach((step, i) => {
    if (step.kind === "from") {
      stages.push({ index: stages.length, name: step.stage, from: step, steps: [], fromIndex: i });
    } else if (stages.length === 0) {
      if (step.kind === "arg") metaArgs.push(step);
    } else {
      (stages[stages.length - 1] as PlanStage).steps.push(step);
    }
  });
  return { metaArgs, stages };
}

/**
 * Finds the stage a name refers to among `stages` (before position `before`): by `AS` name, case
 * insensitively, or by decimal index, as `COPY --from=0` does.
 *
 * @example
 * ```ts
 * findStage(splitStages(plan).stages, "builder")?.index;
 * ```
 */
export function findStage(stages: readonly PlanStage[], nameOrIndex: string, before = stages.length): PlanStage | undefined {
  const wanted = nameOrIndex.toLowerCase();
  for (let i = 0; i < before && i < stages.length; i++) {
    const stage = stages[i] as PlanStage;
    if (stage.name !== undefined && stage.name === wanted) return stage;
  }
  if (/^\d+$/.test(nameOrIndex)) {
    const index = Number(nameOrIndex);
    if (index < before) return stages[index];
  }
  return undefined;
}
