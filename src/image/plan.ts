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

/** Where a step came from in a Dockerfile (1-based, inclusive). Not part of a step's meaning. */
export interface SourceLocation {
  /** The first line of the instruction (1-based). */
  line: number;
  /** The last line of the instruction (1-based, inclusive); past `line` for continuations and heredocs. */
  endLine: number;
}

/** What a stage starts from. */
export type ImageBase =
  /** An empty filesystem and config. */
  | {
    /** Discriminant: starts from nothing (`FROM scratch`). */
    type: "scratch";
  }
  /** An image reference such as `docker.io/library/alpine:3.20` (template, expanded with global ARGs). */
  | {
    /** Discriminant: starts from an image reference. */
    type: "ref";
    /** The image reference (template). */
    ref: string;
  }
  /** An absolute host directory used as the root filesystem; checked when the image is built or run. */
  | {
    /** Discriminant: starts from a host directory. */
    type: "rootfs";
    /** The absolute host path of the directory. */
    path: string;
  }
  /** Another plan, embedded: the image `Image.from(otherImage)` starts from. */
  | {
    /** Discriminant: starts from an embedded plan. */
    type: "image";
    /** The embedded plan; its last stage is the base. */
    plan: ImagePlan;
  }
  /** An earlier stage of this plan, by its name (or its index, as a decimal string, when unnamed). */
  | {
    /** Discriminant: starts from an earlier stage. */
    type: "stage";
    /** The stage's name, or its 0-based index as a decimal string. */
    name: string;
  };

/**
 * Where `copy --from` reads: an earlier stage, an image reference, or an embedded plan. A `ref` (or
 * a FROM `ref`) with variables whose expanded value names an earlier stage means that stage, as in
 * BuildKit; only literal names are resolved to `stage` when the plan is made.
 */
export type CopySource =
  | {
    /** Discriminant: an earlier stage of this plan. */
    type: "stage";
    /** The stage's name, or its 0-based index as a decimal string. */
    name: string;
  }
  | {
    /** Discriminant: an image reference. */
    type: "ref";
    /** The image reference, or a stage name behind variables (template). */
    ref: string;
  }
  | {
    /** Discriminant: an embedded plan (`copy(..., { from: otherImage })`). */
    type: "image";
    /** The embedded plan; files are read from its last stage. */
    plan: ImagePlan;
  };

/** A command as written: a shell-form string (run by the image's SHELL) or an exec-form argv. */
export type CommandLine =
  | {
    /** Discriminant: shell form (`RUN make all`). */
    form: "shell";
    /** The command text, passed unexpanded as the last argument of the SHELL argv. */
    text: string;
  }
  | {
    /** Discriminant: exec form (`RUN ["make", "all"]`). */
    form: "exec";
    /** The program and its arguments, run without a shell. */
    argv: string[];
  };

/** A name/value pair of ENV or LABEL; both are templates. */
export interface KeyValue {
  /** The variable or label name (template). */
  key: string;
  /** The value (template). */
  value: string;
}

/** One declared ARG; `default` is a template. */
export interface ArgDeclaration {
  /** The argument's name. */
  name: string;
  /** The default value (template); absent for `ARG NAME` without `=`. */
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
  /** The mount type (`type=`): a bind from a stage or the context, a persistent cache, a tmpfs, a secret or an SSH agent socket. */
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
  /** Numeric owner uid of the mount (cache, secret, ssh). */
  uid?: number;
  /** Numeric owner gid of the mount (cache, secret, ssh). */
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

/** What every step has, besides its `kind`. */
interface StepBase {
  /** The Dockerfile lines the step came from, for build errors. */
  location?: SourceLocation;
}

/**
 * FROM: starts a stage.
 *
 * @example
 * ```ts
 * const step: FromStep = { kind: "from", base: { type: "ref", ref: "golang:1.22" }, stage: "build" };
 * ```
 */
export interface FromStep extends StepBase {
  /** Discriminant: `FROM`. */
  kind: "from";
  /** What the stage starts from. */
  base: ImageBase;
  /** The stage name (`AS name`), lower case. */
  stage?: string;
  /** `--platform` (template), such as `linux/arm64` or `$BUILDPLATFORM`. */
  platform?: string;
}

/**
 * ARG: declares build arguments.
 *
 * @example
 * ```ts
 * const step: ArgStep = { kind: "arg", args: [{ name: "VERSION", default: "1.0" }] };
 * ```
 */
export interface ArgStep extends StepBase {
  /** Discriminant: `ARG`. */
  kind: "arg";
  /** The declared arguments, in order. */
  args: ArgDeclaration[];
}

/**
 * ENV: sets environment variables in the image config. Pairs are expanded against the env before the step.
 *
 * @example
 * ```ts
 * const step: EnvStep = { kind: "env", vars: [{ key: "PATH", value: "/app/bin:$PATH" }] };
 * ```
 */
export interface EnvStep extends StepBase {
  /** Discriminant: `ENV`. */
  kind: "env";
  /** The variables, set in order. */
  vars: KeyValue[];
}

/**
 * WORKDIR (template); relative paths build on the previous WORKDIR.
 *
 * @example
 * ```ts
 * const step: WorkdirStep = { kind: "workdir", path: "/app" };
 * ```
 */
export interface WorkdirStep extends StepBase {
  /** Discriminant: `WORKDIR`. */
  kind: "workdir";
  /** The working directory (template), absolute or relative to the previous one. */
  path: string;
}

/**
 * COPY: files from the context, a stage, an image or heredocs.
 *
 * @example
 * ```ts
 * const step: CopyStep = { kind: "copy", sources: ["/out/app"], dest: "/usr/local/bin/", from: { type: "stage", name: "build" } };
 * ```
 */
export interface CopyStep extends StepBase {
  /** Discriminant: `COPY`. */
  kind: "copy";
  /** Sources (templates), relative to the build context, or `<<NAME` for a heredoc. */
  sources: string[];
  /** Destination (template). */
  dest: string;
  /** Where sources are read (`--from`); absent means the build context. */
  from?: CopySource;
  /** `user[:group]` (template). */
  chown?: string;
  /** Octal mode (template), such as `755`. */
  chmod?: string;
  /** `--link`: copy into a layer of its own, independent of the layers below. */
  link?: boolean;
  /** `--parents`: keep the sources' parent directories under `dest`. */
  parents?: boolean;
  /** `--exclude` patterns. */
  exclude?: string[];
  /** The heredocs that `<<NAME` sources refer to. */
  heredocs?: Heredoc[];
}

/**
 * ADD: like COPY, and also extracts local archives and downloads URLs.
 *
 * @example
 * ```ts
 * const step: AddStep = { kind: "add", sources: ["rootfs.tar.gz"], dest: "/" };
 * ```
 */
export interface AddStep extends StepBase {
  /** Discriminant: `ADD`. */
  kind: "add";
  /** Sources (templates): paths relative to the build context, URLs, or `<<NAME` for a heredoc. */
  sources: string[];
  /** Destination (template). */
  dest: string;
  /** `user[:group]` (template). */
  chown?: string;
  /** Octal mode (template), such as `755`. */
  chmod?: string;
  /** `--link`: add into a layer of its own, independent of the layers below. */
  link?: boolean;
  /** `--checksum` of a downloaded source. */
  checksum?: string;
  /** `--keep-git-dir`: keep `.git` when adding a Git repository. */
  keepGitDir?: boolean;
  /** `--unpack`: extract archives (default true for local archives). */
  unpack?: boolean;
  /** `--exclude` patterns. */
  exclude?: string[];
  /** The heredocs that `<<NAME` sources refer to. */
  heredocs?: Heredoc[];
}

/**
 * RUN: runs a command in a build container; its changes become a layer.
 *
 * @example
 * ```ts
 * const step: RunStep = { kind: "run", command: { form: "shell", text: "apk add --no-cache curl" }, network: "host" };
 * ```
 */
export interface RunStep extends StepBase {
  /** Discriminant: `RUN`. */
  kind: "run";
  /** The command, never expanded by bento. */
  command: CommandLine;
  /** Extra environment for this step only (no Dockerfile form: printed as a wrapper). */
  env?: KeyValue[];
  /** `--network`: "default" gives the step its own network namespace with outbound access, "host" the host's network, "none" only lo. */
  network?: RunNetwork;
  /** `--security` (`insecure` needs privileges). */
  security?: "sandbox" | "insecure";
  /** `--mount` mounts, in order. */
  mounts?: RunMount[];
  /** Heredocs of the command (`RUN <<EOF`). */
  heredocs?: Heredoc[];
}

/**
 * USER (template): `user[:group]`.
 *
 * @example
 * ```ts
 * const step: UserStep = { kind: "user", user: "app:app" };
 * ```
 */
export interface UserStep extends StepBase {
  /** Discriminant: `USER`. */
  kind: "user";
  /** `user[:group]`, names or numeric ids (template). */
  user: string;
}

/**
 * LABEL: metadata labels (templates).
 *
 * @example
 * ```ts
 * const step: LabelStep = { kind: "label", labels: [{ key: "org.opencontainers.image.source", value: "https://example.com/app" }] };
 * ```
 */
export interface LabelStep extends StepBase {
  /** Discriminant: `LABEL`. */
  kind: "label";
  /** The labels, set in order. */
  labels: KeyValue[];
}

/**
 * EXPOSE: ports (templates) such as `8080`, `53/udp` or `8000-8010/tcp`.
 *
 * @example
 * ```ts
 * const step: ExposeStep = { kind: "expose", ports: ["8080", "53/udp"] };
 * ```
 */
export interface ExposeStep extends StepBase {
  /** Discriminant: `EXPOSE`. */
  kind: "expose";
  /** `port[/protocol]` or `first-last[/protocol]` (templates). */
  ports: string[];
}

/**
 * VOLUME: mount points (templates).
 *
 * @example
 * ```ts
 * const step: VolumeStep = { kind: "volume", paths: ["/var/lib/data"] };
 * ```
 */
export interface VolumeStep extends StepBase {
  /** Discriminant: `VOLUME`. */
  kind: "volume";
  /** Absolute paths in the container (templates). */
  paths: string[];
}

/**
 * HEALTHCHECK. `test` is Docker's config form: `["NONE"]`, `["CMD", ...argv]` or
 * `["CMD-SHELL", text]`. Durations are milliseconds; 0 or absent means the default.
 *
 * @example
 * ```ts
 * const step: HealthcheckStep = { kind: "healthcheck", test: ["CMD-SHELL", "curl -f http://localhost/"], intervalMs: 5000, retries: 3 };
 * ```
 */
export interface HealthcheckStep extends StepBase {
  /** Discriminant: `HEALTHCHECK`. */
  kind: "healthcheck";
  /** The check, in Docker's config form (see above). */
  test: string[];
  /** `--interval`: time between checks, in milliseconds. */
  intervalMs?: number;
  /** `--timeout`: time one check may take, in milliseconds. */
  timeoutMs?: number;
  /** `--start-period`: grace period after start, in milliseconds, during which failures do not count. */
  startPeriodMs?: number;
  /** `--start-interval`: time between checks during the start period, in milliseconds. */
  startIntervalMs?: number;
  /** `--retries`: consecutive failures that make the container unhealthy. */
  retries?: number;
}

/**
 * SHELL: the argv that shell-form commands are appended to.
 *
 * @example
 * ```ts
 * const step: ShellStep = { kind: "shell", argv: ["/bin/bash", "-o", "pipefail", "-c"] };
 * ```
 */
export interface ShellStep extends StepBase {
  /** Discriminant: `SHELL`. */
  kind: "shell";
  /** The shell and its options, such as `["/bin/sh", "-c"]`. */
  argv: string[];
}

/**
 * STOPSIGNAL (template), such as `SIGINT` or `9`.
 *
 * @example
 * ```ts
 * const step: StopSignalStep = { kind: "stopSignal", signal: "SIGINT" };
 * ```
 */
export interface StopSignalStep extends StepBase {
  /** Discriminant: `STOPSIGNAL`. */
  kind: "stopSignal";
  /** A signal name or number (template). */
  signal: string;
}

/**
 * ONBUILD: an instruction (Dockerfile text, such as `RUN make`) that images built FROM this one run.
 *
 * @example
 * ```ts
 * const step: OnbuildStep = { kind: "onbuild", instruction: "COPY . /app" };
 * ```
 */
export interface OnbuildStep extends StepBase {
  /** Discriminant: `ONBUILD`. */
  kind: "onbuild";
  /** The deferred instruction, as Dockerfile text. */
  instruction: string;
}

/**
 * ENTRYPOINT.
 *
 * @example
 * ```ts
 * const step: EntrypointStep = { kind: "entrypoint", command: { form: "exec", argv: ["/usr/local/bin/app"] } };
 * ```
 */
export interface EntrypointStep extends StepBase {
  /** Discriminant: `ENTRYPOINT`. */
  kind: "entrypoint";
  /** The entrypoint, never expanded by bento. */
  command: CommandLine;
}

/**
 * CMD.
 *
 * @example
 * ```ts
 * const step: CmdStep = { kind: "cmd", command: { form: "exec", argv: ["serve", "--port", "8080"] } };
 * ```
 */
export interface CmdStep extends StepBase {
  /** Discriminant: `CMD`. */
  kind: "cmd";
  /** The default command (or the entrypoint's default arguments), never expanded by bento. */
  command: CommandLine;
}

/**
 * MAINTAINER (deprecated in Dockerfiles): the image author; it does not change the config.
 *
 * @example
 * ```ts
 * const step: MaintainerStep = { kind: "maintainer", name: "Jane Doe <jane@example.com>" };
 * ```
 */
export interface MaintainerStep extends StepBase {
  /** Discriminant: `MAINTAINER`. */
  kind: "maintainer";
  /** The author, as written. */
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
