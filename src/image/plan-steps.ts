/**
 * The plan's step types, one per Dockerfile instruction, discriminated on `kind`. Part of the
 * plan IR (plan.ts, which holds their union `ImageStep`).
 */
import type { SourceLocation, ImageBase, CopySource, CommandLine, KeyValue, ArgDeclaration, Heredoc, RunMount, RunNetwork } from "./plan-parts.js";

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
