/**
 * The plan of `Image.fromDockerfile()`: reads the Dockerfile (a path, or text given inline),
 * checks the options and parses it into an `ImagePlan`. Bad input throws `InvalidOptionError`
 * naming the option; a malformed file throws `DockerfileSyntaxError` from the parser.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { InvalidOptionError } from "../errors.js";
import { parseDockerfile } from "./dockerfile.js";
import { describe } from "./image-steps.js";
import type { ImagePlan } from "./plan.js";

/** Options of `Image.fromDockerfile()`. */
export interface FromDockerfileOptions {
  /** The build context directory that COPY/ADD sources are relative to. */
  context?: string;
  /** `--build-arg` values: they override ARG defaults of the same name. */
  buildArgs?: Record<string, string>;
  /** The stage to build (`FROM ... AS <target>`); default the last one. */
  target?: string;
}

/**
 * The plan of a Dockerfile at a path (read synchronously, once: its context defaults to the
 * file's directory) or of `{ dockerfile: text }` (which records no file).
 */
export function planFromDockerfile(pathOrOptions: string | (FromDockerfileOptions & { dockerfile: string }), maybeOptions: FromDockerfileOptions = {}): ImagePlan {
  let text: string;
  let file: string;
  let options: FromDockerfileOptions;
  if (typeof pathOrOptions === "string") {
    file = path.resolve(pathOrOptions);
    options = { context: path.dirname(file), ...maybeOptions };
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new InvalidOptionError("fromDockerfile.path", `cannot read ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; pass the path of a Dockerfile, or { dockerfile: text }`);
    }
  } else if (typeof pathOrOptions === "object" && pathOrOptions !== null && typeof pathOrOptions.dockerfile === "string") {
    text = pathOrOptions.dockerfile;
    file = "<inline>";
    options = pathOrOptions;
  } else {
    throw new InvalidOptionError("fromDockerfile", "expected a Dockerfile path or { dockerfile: text }");
  }
  if (options.buildArgs !== undefined) {
    for (const [key, value] of Object.entries(options.buildArgs)) {
      if (typeof value !== "string") throw new InvalidOptionError(`fromDockerfile.buildArgs.${key}`, `expected a string, got ${describe(value)}`);
    }
  }
  const plan = parseDockerfile(text, {
    file,
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.buildArgs === undefined ? {} : { buildArgs: options.buildArgs }),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
  if (file === "<inline>") delete plan.dockerfile;
  return plan;
}
