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
  version: 1;
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

/** Where a step came from in a Dockerfile (1-based, inclusive). Not part of a step's meaning. */
export interface SourceLocation {
  line: number;
  endLine: number;
}

/** What a stage starts from. */
export type ImageBase =
  /** An empty filesystem and config. */
  | { type: "scratch" }
  /** An image reference such as `docker.io/library/alpine:3.20` (template, expanded with global ARGs). */
  | { type: "ref"; ref: string }
  /** An absolute host directory used as the root filesystem; checked when the image is built or run. */
  | { type: "rootfs"; path: string }
  /** Another plan, embedded: the image `Image.from(otherImage)` starts from. */
  | { type: "image"; plan: ImagePlan }
  /** An earlier stage of this plan, by its name (or its index, as a decimal string, when unnamed). */
  | { type: "stage"; name: string };

/**
 * Where `copy --from` reads: an earlier stage, an image reference, or an embedded plan. A `ref` (or
 * a FROM `ref`) with variables whose expanded value names an earlier stage means that stage, as in
 * BuildKit; only literal names are resolved to `stage` when the plan is made.
 */
export type CopySource =
  | { type: "stage"; name: string }
  | { type: "ref"; ref: string }
  | { type: "image"; plan: ImagePlan };

/** A command as written: a shell-form string (run by the image's SHELL) or an exec-form argv. */
export type CommandLine = { form: "shell"; text: string } | { form: "exec"; argv: string[] };

/** A name/value pair of ENV or LABEL; both are templates. */
export interface KeyValue {
  key: string;
  value: string;
}

/** One declared ARG; `default` is a template. */
export interface ArgDeclaration {
  name: string;
  default?: string;
}

/** A here-document attached to RUN, COPY or ADD (`<<EOF` ... `EOF`). */
export interface Heredoc {
  /** The delimiter word, without quotes. */
  name: string;
  /** The body as written, every line with its newline; with `chomp`, leading tabs are still there. */
  content: string;
  /** False when the delimiter was quoted (`<<'EOF'`): the body is not expanded. */
  expand: boolean;
  /** True for `<<-EOF`: leading tabs are stripped from the body and from the delimiter line. */
  chomp: boolean;
  /** The file descriptor before `<<` (`3<<EOF`), when one was written. */
  fd?: number;
}

/** A `RUN --mount` specification (BuildKit's mount types). */
export interface RunMount {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  /** Where the mount appears in the build container. */
  target?: string;
  /** Path in `from` (bind, cache) or secret/ssh source. */
  source?: string;
  /** Stage or image reference the source comes from (bind, cache). */
  from?: string;
  /** Read-only (bind defaults to true, cache to false). */
  readonly?: boolean;
  /** Cache or secret id. */
  id?: string;
  /** Cache sharing mode. */
  sharing?: "shared" | "private" | "locked";
  /** File mode, as octal text (`0700`). */
  mode?: string;
  uid?: number;
  gid?: number;
  /** Fail when the secret or ssh agent is missing. */
  required?: boolean;
  /** tmpfs size in bytes. */
  sizeBytes?: number;
  /** Expose a secret as this environment variable. */
  env?: string;
}

/** Network mode of a RUN step: BuildKit's `default`, `none` and `host`. */
export type RunNetwork = "default" | "none" | "host";

interface StepBase {
  /** The Dockerfile lines the step came from, for build errors. */
  location?: SourceLocation;
}

/** FROM: starts a stage. */
export interface FromStep extends StepBase {
  kind: "from";
  base: ImageBase;
  /** The stage name (`AS name`), lower case. */
  stage?: string;
  /** `--platform` (template), such as `linux/arm64` or `$BUILDPLATFORM`. */
  platform?: string;
}

/** ARG: declares build arguments. */
export interface ArgStep extends StepBase {
  kind: "arg";
  args: ArgDeclaration[];
}

/** ENV: sets environment variables in the image config. Pairs are expanded against the env before the step. */
export interface EnvStep extends StepBase {
  kind: "env";
  vars: KeyValue[];
}

/** WORKDIR (template); relative paths build on the previous WORKDIR. */
export interface WorkdirStep extends StepBase {
  kind: "workdir";
  path: string;
}

/** COPY: files from the context, a stage, an image or heredocs. */
export interface CopyStep extends StepBase {
  kind: "copy";
  /** Sources (templates), relative to the build context, or `<<NAME` for a heredoc. */
  sources: string[];
  /** Destination (template). */
  dest: string;
  from?: CopySource;
  /** `user[:group]` (template). */
  chown?: string;
  /** Octal mode (template), such as `755`. */
  chmod?: string;
  link?: boolean;
  parents?: boolean;
  /** `--exclude` patterns. */
  exclude?: string[];
  heredocs?: Heredoc[];
}

/** ADD: like COPY, and also extracts local archives and downloads URLs. */
export interface AddStep extends StepBase {
  kind: "add";
  sources: string[];
  dest: string;
  chown?: string;
  chmod?: string;
  link?: boolean;
  /** `--checksum` of a downloaded source. */
  checksum?: string;
  keepGitDir?: boolean;
  /** `--unpack`: extract archives (default true for local archives). */
  unpack?: boolean;
  exclude?: string[];
  heredocs?: Heredoc[];
}

/** RUN: runs a command in a build container; its changes become a layer. */
export interface RunStep extends StepBase {
  kind: "run";
  command: CommandLine;
  /** Extra environment for this step only (no Dockerfile form: printed as a wrapper). */
  env?: KeyValue[];
  network?: RunNetwork;
  /** `--security` (`insecure` needs privileges). */
  security?: "sandbox" | "insecure";
  mounts?: RunMount[];
  heredocs?: Heredoc[];
}

/** USER (template): `user[:group]`. */
export interface UserStep extends StepBase {
  kind: "user";
  user: string;
}

/** LABEL: metadata labels (templates). */
export interface LabelStep extends StepBase {
  kind: "label";
  labels: KeyValue[];
}

/** EXPOSE: ports (templates) such as `8080`, `53/udp` or `8000-8010/tcp`. */
export interface ExposeStep extends StepBase {
  kind: "expose";
  ports: string[];
}

/** VOLUME: mount points (templates). */
export interface VolumeStep extends StepBase {
  kind: "volume";
  paths: string[];
}

/**
 * HEALTHCHECK. `test` is Docker's config form: `["NONE"]`, `["CMD", ...argv]` or
 * `["CMD-SHELL", text]`. Durations are milliseconds; 0 or absent means the default.
 */
export interface HealthcheckStep extends StepBase {
  kind: "healthcheck";
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  retries?: number;
}

/** SHELL: the argv that shell-form commands are appended to. */
export interface ShellStep extends StepBase {
  kind: "shell";
  argv: string[];
}

/** STOPSIGNAL (template), such as `SIGINT` or `9`. */
export interface StopSignalStep extends StepBase {
  kind: "stopSignal";
  signal: string;
}

/** ONBUILD: an instruction (Dockerfile text, such as `RUN make`) that images built FROM this one run. */
export interface OnbuildStep extends StepBase {
  kind: "onbuild";
  instruction: string;
}

/** ENTRYPOINT. */
export interface EntrypointStep extends StepBase {
  kind: "entrypoint";
  command: CommandLine;
}

/** CMD. */
export interface CmdStep extends StepBase {
  kind: "cmd";
  command: CommandLine;
}

/** MAINTAINER (deprecated in Dockerfiles): the image author; it does not change the config. */
export interface MaintainerStep extends StepBase {
  kind: "maintainer";
  name: string;
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
  "from", "arg", "env", "workdir", "copy", "add", "run", "user", "label", "expose", "volume",
  "healthcheck", "shell", "stopSignal", "onbuild", "entrypoint", "cmd", "maintainer",
] satisfies ImageStepKind[]);
