/**
 * The Dockerfile front end in one call: text to plan (parser, then instruction layer), and the
 * parsing of ONBUILD triggers for the config fold.
 */
import path from "node:path";
import { parseDockerfileAst } from "./dockerfile-parser.js";
import { astToPlan } from "./dockerfile-instructions.js";
import type { ImagePlan, ImageStep } from "./plan.js";

/**
 * Options of {@link parseDockerfile}.
 *
 * @example
 * ```ts
 * parseDockerfile(text, { file: "Dockerfile.prod", target: "runtime", buildArgs: { VERSION: "2" }, context: "." });
 * ```
 */
export interface ParseDockerfileToPlanOptions {
  /** The file name errors mention, and the plan's `dockerfile`. Default `"Dockerfile"`. */
  file?: string;
  /** The stage to build; the plan ends with it. Default: the last stage. */
  target?: string;
  /** Build-arg values, kept in the plan's `buildArgs`. */
  buildArgs?: Record<string, string>;
  /** The build context directory, kept (absolute) in the plan's `context`. */
  context?: string;
}

/**
 * Parses Dockerfile text into a plan. Throws `DockerfileSyntaxError` (file, line, column,
 * instruction, what was expected) for malformed input, and `InvalidOptionError` for an unknown target.
 *
 * @example
 * ```ts
 * const plan = parseDockerfile("FROM golang AS build\nRUN go build\nFROM scratch\nCOPY --from=build /app /app\n");
 * plan.steps[3]; // { kind: "copy", sources: ["/app"], dest: "/app", from: { type: "stage", name: "build" }, location: {...} }
 * ```
 */
export function parseDockerfile(text: string, options: ParseDockerfileToPlanOptions = {}): ImagePlan {
  const file = options.file ?? "Dockerfile";
  const plan = astToPlan(parseDockerfileAst(text, { file }), { file, ...(options.target === undefined ? {} : { target: options.target }) });
  if (options.file !== undefined) plan.dockerfile = options.file;
  if (options.context !== undefined) plan.context = path.resolve(options.context);
  if (options.buildArgs !== undefined && Object.keys(options.buildArgs).length > 0) plan.buildArgs = { ...options.buildArgs };
  return plan;
}

/**
 * Parses one ONBUILD trigger (Dockerfile text such as `RUN make`) into the steps it stands for.
 * Passed to `imageConfigOf` as `parseTrigger`, so that triggers of a base image apply.
 *
 * @example
 * ```ts
 * parseOnbuildTrigger("ENV A=1"); // [{ kind: "env", vars: [{ key: "A", value: "1" }] }]
 * ```
 */
export function parseOnbuildTrigger(instruction: string): ImageStep[] {
  // As an ONBUILD argument first: that checks what may be a trigger (not FROM, ONBUILD, MAINTAINER).
  astToPlan(parseDockerfileAst(`FROM scratch\nONBUILD ${instruction}\n`, { file: "ONBUILD trigger" }), { file: "ONBUILD trigger" });
  const steps = astToPlan(parseDockerfileAst(`FROM scratch\n${instruction}\n`, { file: "ONBUILD trigger" }), { file: "ONBUILD trigger" }).steps.slice(1);
  return steps.map(({ location: _location, ...step }) => step as ImageStep);
}
