/**
 * Errors of the build engine. Each has a stable `code` and keeps its facts in fields (STYLE.md
 * section 5): which step, which Dockerfile line, the exit status and the last output lines.
 */
import { BentoError, type BentoErrorOptions } from "../errors.js";

/** Where a failing step is: its position in the build and, for Dockerfiles, its file and line. */
export interface StepPosition {
  /** 1-based step number in the build, as in progress events. */
  step: number;
  /** Steps in the build. */
  total: number;
  /** The instruction as a Dockerfile would write it, such as `RUN make`. */
  instruction: string;
  /** The Dockerfile the plan came from, when it has one. */
  file?: string;
  /** The 1-based Dockerfile line, when the plan has step locations. */
  line?: number;
}

/** The outcome of a failed RUN. */
export interface BuildStepFailure {
  /** The RUN's exit code (128 + n when killed by signal n). */
  exitCode?: number;
  /** The signal that killed it, such as `SIGKILL`. */
  signal?: string;
  /** The last lines the step wrote (stdout and stderr, interleaved). */
  outputTail?: string[];
  /** What went wrong when the step did not run to an exit (a missing user, an unsupported flag). */
  reason?: string;
  /** What the host may have to do with it, after the output (such as a missing subordinate id range). */
  hint?: string;
}

function where(position: StepPosition): string {
  const file = position.file === undefined ? "" : position.line === undefined ? `${position.file}: ` : `${position.file}:${position.line}: `;
  const line = position.file === undefined && position.line !== undefined ? `line ${position.line}: ` : "";
  return `build step ${position.step}/${position.total} (${file}${line}${firstLine(position.instruction)})`;
}

function firstLine(text: string): string {
  const [first = ""] = text.split("\n");
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

/**
 * A build step failed: a RUN exited non-zero (or was killed), or a step could not run. Names the
 * step, the Dockerfile line when the plan has one, the exit code and the last output lines.
 *
 * @example
 * ```ts
 * try { await Image.fromRootfs(dir).run("exit 3").build(); }
 * catch (e) { if (e instanceof BuildStepError) console.log(e.step, e.line, e.exitCode, e.outputTail); }
 * ```
 */
export class BuildStepError extends BentoError {
  /** 1-based step number. */
  readonly step: number;
  /** Steps in the build. */
  readonly total: number;
  /** The instruction, such as `RUN make`. */
  readonly instruction: string;
  /** The Dockerfile, when the plan came from one. */
  readonly file: string | undefined;
  /** The Dockerfile line, when known. */
  readonly line: number | undefined;
  /** The RUN's exit code, when it exited. */
  readonly exitCode: number | undefined;
  /** The signal that killed the RUN, when one did. */
  readonly signal: string | undefined;
  /** The last output lines of the RUN. */
  readonly outputTail: string[];

  constructor(position: StepPosition, failure: BuildStepFailure, options: BentoErrorOptions = {}) {
    const status =
      failure.reason !== undefined
        ? failure.reason
        : failure.signal !== undefined && failure.exitCode !== undefined && failure.exitCode > 128
          ? `killed by ${failure.signal} (exit code ${failure.exitCode})`
          : `exit code ${failure.exitCode ?? "unknown"}`;
    const tail = failure.outputTail?.length ? `\nlast output lines:\n  ${failure.outputTail.join("\n  ")}` : "";
    const hint = failure.hint === undefined ? "" : `\n${failure.hint}`;
    super("ERR_BUILD_STEP", `${where(position)}: ${status}${tail}${hint}`, options);
    this.step = position.step;
    this.total = position.total;
    this.instruction = position.instruction;
    this.file = position.file;
    this.line = position.line;
    this.exitCode = failure.exitCode;
    this.signal = failure.signal;
    this.outputTail = failure.outputTail ?? [];
  }
}

/**
 * A COPY or ADD source is not allowed or not there: it leaves the build context (`..`, an absolute
 * path, a symlink pointing outside), is excluded by `.dockerignore`, or does not exist. Nothing was
 * built.
 *
 * @example
 * ```ts
 * try { await Image.fromRootfs(dir).copy("../secret", "/x").build({ context: "." }); }
 * catch (e) { if (e instanceof BuildContextError) console.log(e.source, e.reason); }
 * ```
 */
export class BuildContextError extends BentoError {
  /** The source as written (after `$VAR` expansion). */
  readonly source: string;
  /** Why it was refused. */
  readonly reason: string;
  /** 1-based step number. */
  readonly step: number;
  /** The Dockerfile, when the plan came from one. */
  readonly file: string | undefined;
  /** The Dockerfile line, when known. */
  readonly line: number | undefined;

  constructor(position: StepPosition, source: string, reason: string, options: BentoErrorOptions = {}) {
    super("ERR_BUILD_CONTEXT", `${where(position)}: source ${JSON.stringify(source)}: ${reason}`, options);
    this.source = source;
    this.reason = reason;
    this.step = position.step;
    this.file = position.file;
    this.line = position.line;
  }
}

/**
 * A stage starts from (or copies from) an image reference the store does not hold. bento has no
 * registry client yet, so the image must be imported (`Store.import`, `Image.fromArchive`) or
 * built and tagged first.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof BaseImageNotFoundError) console.log(e.reference); }
 * ```
 */
export class BaseImageNotFoundError extends BentoError {
  /** The reference, after `$VAR` expansion. */
  readonly reference: string;

  constructor(reference: string, storeRoot: string, options: BentoErrorOptions = {}) {
    super(
      "ERR_BASE_IMAGE_NOT_FOUND",
      `base image "${reference}" is not in the store "${storeRoot}"` +
        (options.cause instanceof Error && !(options.cause.name === "ImageNotFoundError") ? ` and could not be pulled (${options.cause.message})` : "") +
        `: import it (Store.import(archive) or Image.fromArchive(archive)), build and tag it (image.build({ tag: "${reference}" })), ` +
        `or pull it from a registry you can reach (Store.pull; BENTO_REGISTRY_MIRRORS, BENTO_PULL_POLICY)`,
      options,
    );
    this.reference = reference;
  }
}
