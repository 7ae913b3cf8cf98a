/**
 * The image plan: bento's JSON IR for an image, the product of the `Image` builder and of the
 * Dockerfile front end, and the input of the build executor and of `toDockerfile()`.
 *
 * A plan is a flat list of steps in Dockerfile order. A `from` step starts a stage, so a
 * multi-stage Dockerfile is one plan, and the last stage is the image the plan describes; `arg`
 * steps before the first `from` are the global (meta) ARGs, visible to FROM lines only. Everything
 * is plain JSON: no functions, class instances or Buffers.
 *
 * Strings marked *template* are Dockerfile words, expanded at build time with the shell lexer
 * (`$VAR`, `${VAR:-x}`, quotes, escapes with the plan's `escape` character), as a Dockerfile's would
 * be. Command text of RUN, CMD, ENTRYPOINT and HEALTHCHECK is never expanded by bento.
 */
import type { EscapeToken } from "./shell-lexer.js";
import type {
  FromStep,
  ArgStep,
  EnvStep,
  WorkdirStep,
  CopyStep,
  AddStep,
  RunStep,
  UserStep,
  LabelStep,
  ExposeStep,
  VolumeStep,
  HealthcheckStep,
  ShellStep,
  StopSignalStep,
  OnbuildStep,
  EntrypointStep,
  CmdStep,
  MaintainerStep,
} from "./plan-steps.js";

export type { SourceLocation, ImageBase, CopySource, CommandLine, KeyValue, ArgDeclaration, Heredoc, RunMount, RunNetwork } from "./plan-parts.js";
export type {
  FromStep,
  ArgStep,
  EnvStep,
  WorkdirStep,
  CopyStep,
  AddStep,
  RunStep,
  UserStep,
  LabelStep,
  ExposeStep,
  VolumeStep,
  HealthcheckStep,
  ShellStep,
  StopSignalStep,
  OnbuildStep,
  EntrypointStep,
  CmdStep,
  MaintainerStep,
} from "./plan-steps.js";

/**
 * The only plan version this module reads and writes.
 *
 * @example
 * ```ts
 * plan.version === PLAN_VERSION;
 * ```
 */
export const PLAN_VERSION = 1;

/**
 * An image plan: JSON-safe, versioned, with steps in order.
 *
 * @example
 * ```ts
 * const plan: ImagePlan = { version: 1, steps: [{ kind: "from", base: { type: "ref", ref: "alpine:3.20" } }] };
 * Image.fromPlan(plan).toDockerfile(); // "FROM alpine:3.20\n"
 * ```
 */
export interface ImagePlan {
  /** The plan format version; always {@link PLAN_VERSION}. */
  version: 1;
  /** The steps in Dockerfile order; each `from` step starts a stage. */
  steps: ImageStep[];
  /** The escape character of the templates in this plan (`# escape=` in a Dockerfile). Default `\`. */
  escape?: EscapeToken;
  /** The `# syntax=` directive of the Dockerfile the plan came from, kept for printing. */
  syntax?: string;
  /** Absolute build-context directory that COPY/ADD sources are relative to, when the plan knows it. */
  context?: string;
  /** Build-arg values (`--build-arg`), which override ARG defaults of the same name. */
  buildArgs?: Record<string, string>;
  /** The Dockerfile this plan was parsed from, for error messages (step `location` lines refer to it). */
  dockerfile?: string;
}

/**
 * One step of a plan, discriminated on `kind`.
 *
 * @example
 * ```ts
 * const step: ImageStep = { kind: "run", command: { form: "shell", text: "make" } };
 * ```
 */
export type ImageStep =
  | FromStep
  | ArgStep
  | EnvStep
  | WorkdirStep
  | CopyStep
  | AddStep
  | RunStep
  | UserStep
  | LabelStep
  | ExposeStep
  | VolumeStep
  | HealthcheckStep
  | ShellStep
  | StopSignalStep
  | OnbuildStep
  | EntrypointStep
  | CmdStep
  | MaintainerStep;

/** The `kind` of every step. */
export type ImageStepKind = ImageStep["kind"];

/**
 * Every step kind, in no particular order; used to validate plans read from JSON.
 *
 * @example
 * ```ts
 * STEP_KINDS.includes("run"); // true
 * ```
 */
export const STEP_KINDS: readonly ImageStepKind[] = Object.freeze([
  "from",
  "arg",
  "env",
  "workdir",
  "copy",
  "add",
  "run",
  "user",
  "label",
  "expose",
  "volume",
  "healthcheck",
  "shell",
  "stopSignal",
  "onbuild",
  "entrypoint",
  "cmd",
  "maintainer",
] satisfies ImageStepKind[]);
