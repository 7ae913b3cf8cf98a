/**
 * The options of the `Image` builder methods and the checks that turn their arguments into plan
 * steps. Every check throws `InvalidOptionError` naming the argument and the fix; nothing else runs.
 */
import { InvalidOptionError } from "../errors.js";
import type { CommandLine, HealthcheckStep, KeyValue, RunMount, RunNetwork } from "./plan.js";
import { expandShellWord, type EscapeToken } from "./shell-lexer.js";

/** Options of `from()`. */
export interface FromOptions {
  /** Names the stage (`FROM ... AS name`), so later steps can `copy(..., { from: name })`. */
  as?: string;
  /** `--platform`, such as `linux/arm64`. */
  platform?: string;
}

/** Options of `copy()`. */
export interface CopyOptions {
  /** A stage name of this plan, an image reference, or another `Image` to copy from. */
  from?:
    | string
    | {
        /** The plan of the image to copy from. */
        toPlan(): import("./plan.js").ImagePlan;
      };
  /** Owner of the copied files, `user[:group]` (names or ids). */
  chown?: string;
  /** Mode of the copied files: octal text (`"755"`) or a number (`0o755`). */
  chmod?: string | number;
  /** Copy into a layer of its own (`COPY --link`). */
  link?: boolean;
  /** Keep the source's parent directories (`COPY --parents`). */
  parents?: boolean;
  /** Patterns of source files to leave out (`COPY --exclude`). */
  exclude?: string[];
}

/** Options of `add()`. */
export interface AddOptions {
  /** Owner of the added files, `user[:group]`. */
  chown?: string;
  /** Mode of the added files: octal text or a number. */
  chmod?: string | number;
  /** Add into a layer of its own (`ADD --link`). */
  link?: boolean;
  /** Expected digest of a downloaded source, `sha256:<hex>`. */
  checksum?: string;
  /** Keep `.git` when adding a Git repository. */
  keepGitDir?: boolean;
  /** Whether local archives are extracted (default: yes). */
  unpack?: boolean;
  /** Patterns of source files to leave out. */
  exclude?: string[];
}

/** Options of `run()`. */
export interface RunOptions {
  /** Environment for this step only; not saved in the image. Values are literal. */
  env?: Record<string, string>;
  /** `host` (default for bento builds, as `docker build --network=host`), `none`, or `default`. */
  network?: RunNetwork;
  /** `RUN --mount` mounts: caches, secrets, binds from other stages, tmpfs. */
  mounts?: RunMount[];
  /** `insecure` runs the step with all capabilities. DANGER: it grants the build step root-equivalent power over the host's kernel interfaces. */
  security?: "sandbox" | "insecure";
}

/** Options of `healthcheck()`; durations in milliseconds. */
export interface HealthcheckOptions {
  /** Time between checks (Docker's default 30 s). */
  intervalMs?: number;
  /** Time a check may take (default 30 s). */
  timeoutMs?: number;
  /** Grace period after start during which failures do not count. */
  startPeriodMs?: number;
  /** Time between checks during the start period. */
  startIntervalMs?: number;
  /** Consecutive failures that make the container unhealthy (default 3). */
  retries?: number;
}

/**
 * Checks a template (a Dockerfile word expanded at build time): it must be a string, have no line
 * break (a Dockerfile cannot express one) and be valid for the shell lexer.
 *
 * @example
 * ```ts
 * checkTemplate("env.PATH", "/app:$PATH", "\\"); // ok
 * ```
 */
export function checkTemplate(option: string, value: unknown, escape: EscapeToken, { allowEmpty = false } = {}): string {
  if (typeof value !== "string") throw new InvalidOptionError(option, `expected a string, got ${describe(value)}`);
  if (!allowEmpty && value.trim() === "") throw new InvalidOptionError(option, "expected a non-empty string");
  if (/[\r\n]/.test(value)) throw new InvalidOptionError(option, "contains a line break, which a Dockerfile cannot express; use a file (copy) or a RUN script instead");
  try {
    // Unset variables are fine here; only the syntax is checked.
    expandShellWord(value, {}, { escape, skipUnsetEnv: true });
  } catch (error) {
    throw new InvalidOptionError(option, `${(error as Error).message}; write a literal $ as ${escape}$`);
  }
  return value;
}

/**
 * Checks a `name=value` record or a single key and value, for `env()` and `label()`.
 *
 * @example
 * ```ts
 * keyValuesOf("env", { MODE: "test" }, undefined, "\\"); // [{ key: "MODE", value: "test" }]
 * ```
 */
export function keyValuesOf(method: string, keyOrRecord: unknown, value: unknown, escape: EscapeToken): KeyValue[] {
  let entries: [string, unknown][];
  if (typeof keyOrRecord === "string") entries = [[keyOrRecord, value]];
  else if (typeof keyOrRecord === "object" && keyOrRecord !== null && !Array.isArray(keyOrRecord)) {
    if (value !== undefined) throw new InvalidOptionError(method, "pass either a record or a key and a value, not both");
    entries = Object.entries(keyOrRecord);
  } else {
    throw new InvalidOptionError(method, `expected a record of strings or (key, value), got ${describe(keyOrRecord)}`);
  }
  if (entries.length === 0) throw new InvalidOptionError(method, "expected at least one entry");
  return entries.map(([key, v]) => {
    if (key === "" || /[\s=]/.test(key)) throw new InvalidOptionError(`${method}.${key}`, "a name must be non-empty, with no spaces and no '='");
    return { key, value: checkTemplate(`${method}.${key}`, v, escape, { allowEmpty: true }) };
  });
}

/**
 * A command line from a string (shell form) or an array (exec form).
 *
 * @example
 * ```ts
 * commandOf("cmd", ["-p", "80"], { allowEmptyArray: true }); // { form: "exec", argv: ["-p", "80"] }
 * ```
 */
export function commandOf(option: string, value: unknown, { allowEmptyArray = false, allowNewlines = false } = {}): CommandLine {
  if (typeof value === "string") {
    if (value.trim() === "") throw new InvalidOptionError(option, "expected a non-empty command; pass an array for the exec form");
    if (!allowNewlines && /[\r\n]/.test(value)) throw new InvalidOptionError(option, "a shell-form command here cannot span lines in a Dockerfile; use the exec form (an array) or a script file");
    return { form: "shell", text: value };
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    if (value.length === 0 && !allowEmptyArray) throw new InvalidOptionError(option, "expected at least one argument");
    return { form: "exec", argv: [...value] };
  }
  throw new InvalidOptionError(option, `expected a string (shell form) or an array of strings (exec form), got ${describe(value)}`);
}

/**
 * Mode text for `chmod`: a number becomes its octal digits.
 *
 * @example
 * ```ts
 * chmodOf("copy.chmod", 0o755); // "755"
 * ```
 */
export function chmodOf(option: string, value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > 0o7777) throw new InvalidOptionError(option, "expected a mode between 0 and 0o7777");
    return value.toString(8);
  }
  if (typeof value === "string" && (/^[0-7]{3,4}$/.test(value) || value.includes("$"))) return value;
  throw new InvalidOptionError(option, `expected an octal mode such as "755" or 0o755, got ${describe(value)}`);
}

/**
 * Checks an ownership spec `user[:group]`.
 *
 * @example
 * ```ts
 * chownOf("copy.chown", "1000:1000", "\\"); // "1000:1000"
 * ```
 */
export function chownOf(option: string, value: unknown, escape: EscapeToken): string {
  const text = checkTemplate(option, value, escape);
  if (/\s/.test(text) || text.split(":").length > 2 || text.startsWith(":") || text.endsWith(":")) {
    throw new InvalidOptionError(option, `expected user or user:group, got ${JSON.stringify(text)}`);
  }
  return text;
}

/**
 * The HEALTHCHECK test in Docker's form, from `healthcheck()`'s first argument.
 *
 * @example
 * ```ts
 * healthcheckTestOf("curl -f localhost"); // ["CMD-SHELL", "curl -f localhost"]
 * ```
 */
export function healthcheckTestOf(test: unknown): string[] {
  if (test === "NONE") return ["NONE"];
  if (typeof test === "string") {
    const command = commandOf("healthcheck.test", test);
    return ["CMD-SHELL", (command as { text: string }).text];
  }
  if (Array.isArray(test) && test.every((t) => typeof t === "string")) {
    const [type, ...rest] = test as string[];
    if (type === "CMD" && rest.length > 0) return ["CMD", ...rest];
    if (type === "CMD-SHELL" && rest.length === 1) return ["CMD-SHELL", rest[0] as string];
    if (type === "NONE" && rest.length === 0) return ["NONE"];
    throw new InvalidOptionError("healthcheck.test", 'an array is Docker\'s test form: ["CMD", ...argv], ["CMD-SHELL", "command"] or ["NONE"]; pass a string for a shell command');
  }
  throw new InvalidOptionError("healthcheck.test", `expected "NONE", a shell command string or Docker's test array, got ${describe(test)}`);
}

/**
 * A healthcheck step from a test and options, checking durations as Docker does (0 means the
 * default; otherwise at least 1 ms).
 *
 * @example
 * ```ts
 * healthcheckStepOf(["CMD", "true"], { intervalMs: 500, retries: 20 });
 * ```
 */
export function healthcheckStepOf(test: string[], options: HealthcheckOptions): HealthcheckStep {
  const step: HealthcheckStep = { kind: "healthcheck", test };
  const keys = ["intervalMs", "timeoutMs", "startPeriodMs", "startIntervalMs", "retries"] as const;
  for (const key of keys) {
    const value = options[key];
    if (value === undefined) continue;
    if (test[0] === "NONE") throw new InvalidOptionError(`healthcheck.${key}`, "HEALTHCHECK NONE takes no options");
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new InvalidOptionError(`healthcheck.${key}`, `expected a number >= 0, got ${describe(value)}`);
    if (key === "retries" && !Number.isInteger(value)) throw new InvalidOptionError("healthcheck.retries", "expected an integer");
    if (key !== "retries" && value > 0 && value < 1) throw new InvalidOptionError(`healthcheck.${key}`, "cannot be less than 1 ms (0 means the default)");
    step[key] = value;
  }
  return step;
}

/**
 * Checks a stage name as BuildKit does: a letter, then letters, digits, `-`, `_` and `.`.
 *
 * @example
 * ```ts
 * stageNameOf("from.as", "Builder"); // "builder"
 * ```
 */
export function stageNameOf(option: string, name: unknown): string {
  if (typeof name !== "string" || !/^[a-zA-Z][a-zA-Z0-9\-_.]*$/.test(name)) {
    throw new InvalidOptionError(option, `invalid stage name ${JSON.stringify(name)}: start with a letter, then letters, digits, '-', '_' or '.'`);
  }
  return name.toLowerCase();
}

/**
 * Describes a value for an error message.
 *
 * @example
 * ```ts
 * describe(undefined); // "nothing"
 * ```
 */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}
