/**
 * Build progress events, as `image.build({ onProgress })` receives them: one `step` event when a
 * step starts (cached or not, and why it runs again), one `step-done` event when a step that ran
 * is finished, `output` for each line a RUN writes, `warning` when a registry build cache cannot be
 * used, and `image` once the image is stored.
 */

/**
 * Why a step was not taken from the cache.
 *
 * - `no-cache`: the build was asked to rebuild everything (`noCache`).
 * - `pull`: the base was resolved again (`pull`).
 * - `parent-rebuilt`: an earlier step ran and gave a different result; every later step reruns.
 * - `instruction-changed`: this instruction was never built on this parent; another one was.
 * - `inputs-changed`: the same instruction was built on this parent, with other files, build args or sources.
 * - `layer-missing`: the cached layer's blob is no longer in the store (pruned).
 * - `new`: nothing was built on this parent before (first build, or a new base image).
 */
export type RebuildCause = "no-cache" | "pull" | "parent-rebuilt" | "instruction-changed" | "inputs-changed" | "layer-missing" | "new";

/** A step begins: from the cache, or running (with the reason). */
export interface BuildStepEvent {
  /** Discriminates the event kinds. */
  type: "step";
  /** 1-based step number; FROM lines count as steps, as in `docker build`. */
  step: number;
  /** Steps in the build so far; grows when a base image brings ONBUILD triggers. */
  total: number;
  /** The stage's name, or its index as text. */
  stage: string;
  /** The instruction as a Dockerfile writes it (templates not expanded). */
  instruction: string;
  /** True when the step's result came from the build cache. */
  cached: boolean;
  /** When not cached: why, as a category. */
  cause?: RebuildCause;
  /** When not cached: what changed, in words (`files changed: src/a.ts`). */
  reason?: string;
  /** When cached from a registry build cache (`cacheFrom`): its reference. */
  cacheRef?: string;
}

/** A step that ran has finished. */
export interface BuildStepDoneEvent {
  /** Discriminates the event kinds. */
  type: "step-done";
  /** 1-based step number. */
  step: number;
  /** Steps in the build so far. */
  total: number;
  /** The stage's name, or its index as text. */
  stage: string;
  /** The instruction as a Dockerfile writes it. */
  instruction: string;
  /** How long the step took. */
  durationMs: number;
  /** The diff id of the layer it made, when it made one. */
  layer?: string;
}

/** A line a RUN step wrote. */
export interface BuildOutputEvent {
  /** Discriminates the event kinds. */
  type: "output";
  /** The RUN step that wrote the line. */
  step: number;
  /** Which of the step's streams. */
  stream: "stdout" | "stderr";
  /** The line, with its newline. */
  text: string;
}

/** The image is in the store. */
export interface BuildImageEvent {
  /** Discriminates the event kinds. */
  type: "image";
  /** The image id (`sha256:` of the config). */
  id: string;
  /** The tags now pointing at it (full references). */
  tags: string[];
  /** Steps taken from the cache. */
  cachedSteps: number;
  /** Steps in all. */
  total: number;
  /** How long the whole build took. */
  durationMs: number;
}

/** A registry build cache could not be read or written; the build goes on without it. */
export interface BuildWarningEvent {
  /** Discriminates the event kinds. */
  type: "warning";
  /** What went wrong, naming the cache's reference. */
  message: string;
}

/**
 * One progress event of a build.
 *
 * @example
 * ```ts
 * await image.build({
 *   onProgress: (e) => {
 *     if (e.type === "step") console.log(`[${e.step}/${e.total}] ${e.cached ? "CACHED " : ""}${e.instruction}${e.reason ? ` (${e.reason})` : ""}`);
 *   },
 * });
 * ```
 */
export type BuildProgressEvent = BuildStepEvent | BuildStepDoneEvent | BuildOutputEvent | BuildImageEvent | BuildWarningEvent;
