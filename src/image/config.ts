/**
 * The image config (Docker's field names, as stored in an image's config blob) and the pure fold of
 * config-only steps over it, with Docker's (BuildKit's dispatcher's) semantics.
 */
import path from "node:path";
import { BentoError, InvalidOptionError } from "../errors.js";
import type { CommandLine, ImageStep, KeyValue } from "./plan.js";
import { processWord, type EscapeToken } from "./shell-lexer.js";

/** Docker's HEALTHCHECK config; durations are nanoseconds, 0 or absent meaning the default. */
export interface HealthcheckConfig {
  /** `["NONE"]`, `["CMD", ...argv]` or `["CMD-SHELL", text]`. */
  Test: string[];
  /** Time between checks, in nanoseconds. */
  Interval?: number;
  /** Time one check may take, in nanoseconds. */
  Timeout?: number;
  /** Grace period after start during which failures do not count, in nanoseconds. */
  StartPeriod?: number;
  /** Time between checks during the start period, in nanoseconds. */
  StartInterval?: number;
  /** Consecutive failures that make the container unhealthy. */
  Retries?: number;
}

/**
 * An image's runtime config, with Docker's field names (the `config` object of an image config blob).
 *
 * @example
 * ```ts
 * const config: ImageConfig = { ...emptyImageConfig(), Cmd: ["sh"] };
 * ```
 */
export interface ImageConfig {
  /** `KEY=value` strings, in order. */
  Env: string[];
  /** The entrypoint argv (shell form already wrapped in `Shell`); absent or `null` (as Docker writes it) means none. */
  Entrypoint?: string[] | null;
  /** The default command argv, or the entrypoint's default arguments; absent or `null` means none. */
  Cmd?: string[] | null;
  /** Absolute; `""` means `/`. */
  WorkingDir: string;
  /** `user[:group]`; `""` means root. */
  User: string;
  /** Keys such as `8080/tcp`. */
  ExposedPorts: Record<string, Record<string, never>>;
  /** Keys are the absolute paths of VOLUME mount points; a container gets an anonymous volume at each one its mounts do not cover. */
  Volumes: Record<string, Record<string, never>>;
  /** Metadata labels (LABEL). */
  Labels: Record<string, string>;
  /** The signal that stops a container, such as `SIGTERM` (the default when absent) or `9`. */
  StopSignal?: string;
  /** The container healthcheck (HEALTHCHECK); absent means none is set, `Test: ["NONE"]` disables an inherited one. */
  Healthcheck?: HealthcheckConfig;
  /** The argv shell-form commands are appended to; default `["/bin/sh", "-c"]`. */
  Shell?: string[];
  /** ONBUILD triggers, as Dockerfile text. */
  OnBuild?: string[] | null;
}

/**
 * The shell of shell-form commands when the image sets no SHELL.
 *
 * @example
 * ```ts
 * [...DEFAULT_SHELL, "echo hi"]; // ["/bin/sh", "-c", "echo hi"]
 * ```
 */
export const DEFAULT_SHELL: readonly string[] = Object.freeze(["/bin/sh", "-c"]);

/**
 * The PATH BuildKit gives Linux images that set none (`system.DefaultPathEnv`).
 *
 * @example
 * ```ts
 * `PATH=${DEFAULT_PATH}`;
 * ```
 */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * An empty config, as a `scratch` or rootfs stage starts with: BuildKit's `emptyImage` (WORKDIR `/`,
 * the default PATH).
 *
 * @example
 * ```ts
 * emptyImageConfig().Env; // ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
 * ```
 */
export function emptyImageConfig(): ImageConfig {
  return { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: "/", User: "", ExposedPorts: {}, Volumes: {}, Labels: {} };
}

/**
 * The state of a stage while its steps are folded: the config being built, the variables that
 * `$VAR` sees (ENV values plus ARG values, which are not saved in the config), and whether this
 * stage has set CMD (an ENTRYPOINT then keeps it).
 */
export interface StageState {
  readonly config: ImageConfig;
  /** What `$VAR` expands to in the next step. */
  readonly vars: Readonly<Record<string, string>>;
  /** True once a CMD step ran in this stage. */
  readonly cmdSet: boolean;
}

/** Inputs of the fold that do not change from step to step. */
export interface ConfigScope {
  /** `--build-arg` values: they override ARG defaults. */
  buildArgs?: Readonly<Record<string, string>>;
  /** The global ARGs (before the first FROM) with their resolved values; `undefined` when unset. */
  metaArgs?: Readonly<Record<string, string | undefined>>;
  /** The plan's escape character. */
  escape?: EscapeToken;
}

/**
 * Starts a stage from its base image's config: copies it, drops its ONBUILD triggers (they run in
 * this stage instead of being inherited) and adds the default PATH when the base set none, as
 * BuildKit does.
 *
 * @example
 * ```ts
 * const state = startStage(emptyImageConfig());
 * ```
 */
export function startStage(base: ImageConfig): StageState {
  const config = cloneConfig(base);
  delete config.OnBuild;
  if (!config.Env.some((e) => envKey(e) === "PATH")) config.Env.push(`PATH=${DEFAULT_PATH}`);
  return { config, vars: varsFromEnv(config.Env), cmdSet: false };
}

/**
 * Applies one step to a stage's state with Docker's semantics and returns the new state; the input
 * is not changed. Steps that only change the filesystem (run, copy, add) and MAINTAINER (the image's
 * author, outside the config) return the state as it was. A `from` step starts a new stage: use
 * {@link startStage}.
 *
 * - CMD: the last one wins. ENTRYPOINT clears the CMD unless a CMD was set earlier in this stage.
 * - Shell forms become `[...Shell, text]` (Shell defaults to `/bin/sh -c`).
 * - ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL and ARG defaults expand `$VAR` against the
 *   variables before the step (all pairs of one ENV see the same, earlier values).
 * - ARG takes the build arg, else its default, else the global ARG of the same name.
 * - A relative WORKDIR is joined to the previous one.
 *
 * @example
 * ```ts
 * let state = startStage(emptyImageConfig());
 * state = applyConfigStep(state, { kind: "env", vars: [{ key: "APP", value: "/srv" }] });
 * state = applyConfigStep(state, { kind: "workdir", path: "$APP/web" });
 * state.config.WorkingDir; // "/srv/web"
 * ```
 */
export function applyConfigStep(state: StageState, step: ImageStep, scope: ConfigScope = {}): StageState {
  const expand = (word: string): string => processWord(word, state.vars, { escape: scope.escape ?? "\\" });
  switch (step.kind) {
    case "from":
      throw new BentoError("ERR_INVALID_STEP", "applyConfigStep: a from step starts a new stage; use startStage() with the base image's config");
    case "run":
    case "copy":
    case "add":
    case "maintainer":
      return state;
    case "arg":
      return applyArgs(state, step.args, scope);
    case "env": {
      const pairs = expandPairs(step.vars, expand);
      const config = cloneConfig(state.config);
      const vars: Record<string, string> = { ...state.vars };
      for (const { key, value } of pairs) {
        config.Env = setEnv(config.Env, key, value);
        vars[key] = value;
      }
      return { ...state, config, vars };
    }
    case "label": {
      const config = cloneConfig(state.config);
      for (const { key, value } of expandPairs(step.labels, expand)) config.Labels[key] = value;
      return { ...state, config };
    }
    case "workdir": {
      const requested = expand(step.path);
      if (requested === "") throw new InvalidOptionError("workdir", "WORKDIR expands to an empty path");
      const config = cloneConfig(state.config);
      config.WorkingDir = path.posix.resolve("/", state.config.WorkingDir || "/", requested);
      return { ...state, config };
    }
    case "user":
      return withConfig(state, { User: expand(step.user) });
    case "expose": {
      const config = cloneConfig(state.config);
      for (const port of step.ports) for (const key of parsePortSpec(expand(port))) config.ExposedPorts[key] = {};
      return { ...state, config };
    }
    case "volume": {
      const config = cloneConfig(state.config);
      for (const raw of step.paths) {
        const volume = expand(raw);
        if (volume.trim() === "") throw new InvalidOptionError("volume", "a VOLUME path cannot be empty");
        config.Volumes[volume] = {};
      }
      return { ...state, config };
    }
    case "healthcheck":
      return withConfig(state, { Healthcheck: healthcheckConfig(step.test, step) });
    case "shell":
      return withConfig(state, { Shell: [...step.argv] });
    case "stopSignal":
      return withConfig(state, { StopSignal: expand(step.signal) });
    case "onbuild":
      return withConfig(state, { OnBuild: [...(state.config.OnBuild ?? []), step.instruction] });
    case "entrypoint": {
      const argv = commandArgv(step.command, state.config.Shell);
      const config = cloneConfig(state.config);
      if (argv.length === 0) delete config.Entrypoint;
      else config.Entrypoint = argv;
      // BuildKit's dispatchEntrypoint: an ENTRYPOINT resets a CMD this stage did not set itself.
      if (!state.cmdSet) delete config.Cmd;
      return { ...state, config };
    }
    case "cmd": {
      const argv = commandArgv(step.command, state.config.Shell);
      const config = cloneConfig(state.config);
      if (argv.length === 0) delete config.Cmd;
      else config.Cmd = argv;
      return { ...state, config, cmdSet: true };
    }
    default: {
      const unknown: never = step;
      throw new BentoError("ERR_INVALID_STEP", `applyConfigStep: unknown step kind ${JSON.stringify((unknown as { kind: unknown }).kind)}`);
    }
  }
}

/**
 * The argv a command line stands for in the config: exec form as is, shell form appended to the
 * image's SHELL (BuildKit's `withShell`).
 *
 * @example
 * ```ts
 * commandArgv({ form: "shell", text: "echo hi" }, undefined); // ["/bin/sh", "-c", "echo hi"]
 * ```
 */
export function commandArgv(command: CommandLine, shell: readonly string[] | undefined): string[] {
  return command.form === "exec" ? [...command.argv] : [...(shell ?? DEFAULT_SHELL), command.text];
}

/**
 * Docker's healthcheck config for a step's test and options (milliseconds in, nanoseconds out).
 * Zero durations are left out, as Docker's JSON omits them.
 *
 * @example
 * ```ts
 * healthcheckConfig(["CMD-SHELL", "curl -f localhost"], { intervalMs: 500 }).Interval; // 500000000
 * ```
 */
export function healthcheckConfig(test: readonly string[], options: { intervalMs?: number; timeoutMs?: number; startPeriodMs?: number; startIntervalMs?: number; retries?: number }): HealthcheckConfig {
  const out: HealthcheckConfig = { Test: [...test] };
  if (test[0] === "NONE") return out;
  const ns = (ms: number | undefined): number | undefined => (ms ? Math.round(ms * 1e6) : undefined);
  const fields = {
    Interval: ns(options.intervalMs),
    Timeout: ns(options.timeoutMs),
    StartPeriod: ns(options.startPeriodMs),
    StartInterval: ns(options.startIntervalMs),
    Retries: options.retries || undefined,
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) (out as unknown as Record<string, number>)[key] = value;
  return out;
}

/**
 * The `ExposedPorts` keys of one EXPOSE word: `8080` gives `8080/tcp`, `53/udp` gives `53/udp`, and a
 * range `8000-8002` gives one key per port. Throws on anything else.
 *
 * @example
 * ```ts
 * parsePortSpec("7000-7001/udp"); // ["7000/udp", "7001/udp"]
 * ```
 */
export function parsePortSpec(spec: string): string[] {
  const match = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  const proto = (match?.[3] ?? "tcp").toLowerCase();
  const start = Number(match?.[1]);
  const end = match?.[2] === undefined ? start : Number(match[2]);
  if (match === null || !["tcp", "udp", "sctp"].includes(proto) || start > 65535 || end > 65535 || end < start) {
    throw new InvalidOptionError("expose", `invalid port ${JSON.stringify(spec)}: use a port (8080), a range (8000-8010) and an optional /tcp, /udp or /sctp`);
  }
  const keys: string[] = [];
  for (let port = start; port <= end; port++) keys.push(`${port}/${proto}`);
  return keys;
}

/**
 * A deep copy of a config, so that a fold never changes its input.
 *
 * @example
 * ```ts
 * const copy = cloneConfig(config); copy.Env.push("A=1"); // config is unchanged
 * ```
 */
export function cloneConfig(config: ImageConfig): ImageConfig {
  return structuredClone(config);
}

/**
 * The name of a `KEY=value` environment entry.
 *
 * @example
 * ```ts
 * envKey("PATH=/bin"); // "PATH"
 * ```
 */
export function envKey(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.slice(0, eq);
}

function varsFromEnv(env: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf("=");
    vars[eq < 0 ? entry : entry.slice(0, eq)] = eq < 0 ? "" : entry.slice(eq + 1);
  }
  return vars;
}

// Replaces the entry in place when the key exists (keeping the order Docker keeps), else appends.
function setEnv(env: string[], key: string, value: string): string[] {
  const entry = `${key}=${value}`;
  const index = env.findIndex((e) => envKey(e) === key);
  if (index < 0) return [...env, entry];
  const out = [...env];
  out[index] = entry;
  return out;
}

// Every pair is expanded before any is applied: `ENV a=1 b=$a` gives b the *previous* a (Docker docs).
function expandPairs(pairs: readonly KeyValue[], expand: (word: string) => string): KeyValue[] {
  return pairs.map(({ key, value }) => ({ key: expand(key), value: expand(value) }));
}

function withConfig(state: StageState, patch: Partial<ImageConfig>): StageState {
  return { ...state, config: { ...cloneConfig(state.config), ...patch } };
}

function applyArgs(state: StageState, args: readonly { name: string; default?: string }[], scope: ConfigScope): StageState {
  const vars: Record<string, string> = { ...state.vars };
  for (const arg of args) {
    let value: string | undefined;
    if (scope.buildArgs !== undefined && Object.hasOwn(scope.buildArgs, arg.name)) {
      value = scope.buildArgs[arg.name];
    } else if (arg.default !== undefined) {
      // Each ARG sees the ones declared before it in the same instruction (BuildKit's dispatchArg).
      value = processWord(arg.default, vars, { escape: scope.escape ?? "\\" });
    } else if (scope.metaArgs !== undefined && Object.hasOwn(scope.metaArgs, arg.name)) {
      // `ARG NAME` inside a stage takes the value of the global ARG NAME (BuildKit).
      value = scope.metaArgs[arg.name];
    }
    if (value !== undefined) vars[arg.name] = value;
  }
  return { ...state, vars };
}
