/**
 * Errors of stacks and the compose loader. Each has a stable `code` and keeps its facts in fields:
 * the compose path of the bad value, the file and line, the services of a cycle, the keys that
 * cannot run (see shared/STYLE.md section 5).
 */
import { BentoError, StartupError, type BentoErrorOptions, type StartupErrorDetails } from "../errors.js";

/**
 * The stable codes of {@link ComposeError}.
 *
 * @example
 * ```ts
 * if (e instanceof ComposeError && e.code === "ERR_COMPOSE_VARIABLE") console.log("set", e.path);
 * ```
 */
export type ComposeErrorCode =
  /** The file could not be read (missing, unreadable), or an env_file it names. */
  | "ERR_COMPOSE_FILE"
  /** The text is not valid YAML (or holds several documents). */
  | "ERR_COMPOSE_YAML"
  /** The document does not match the compose schema. */
  | "ERR_COMPOSE_SCHEMA"
  /** A `${...}` expression is malformed, or a required variable (`${VAR:?message}`) is missing. */
  | "ERR_COMPOSE_VARIABLE"
  /** A value has the right type but cannot be used (a bad port, duration, size, reference...). */
  | "ERR_COMPOSE_VALUE";

/**
 * Where in which file a compose error is.
 *
 * @example
 * ```ts
 * const { file, line, column } = composeError; // "compose.yaml", 12, 7
 * ```
 */
export interface ComposeErrorLocation {
  /** The compose file, or `"<inline>"` for YAML text passed directly. */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
}

/**
 * A compose file could not be loaded. `path` is the dotted path of the bad value
 * (`services.web.ports[0]`), `file`/`line`/`column` say where it is; the message ends with the fix.
 * Nothing was created.
 *
 * @example
 * ```ts
 * try { loadCompose({ yaml: "services:\n  web:\n    image: 5\n" }); }
 * catch (e) { if (e instanceof ComposeError) console.log(e.code, e.path, e.line); } // ERR_COMPOSE_SCHEMA services.web.image 3
 * ```
 */
export class ComposeError extends BentoError {
  /** The compose path of the bad value, such as `services.web.ports[0]`; `""` for the whole file. */
  readonly path: string;
  /** The compose file, or `"<inline>"`. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;
  /** The problem without the location prefix. */
  readonly reason: string;

  constructor(code: ComposeErrorCode, path: string, reason: string, location: ComposeErrorLocation, options: BentoErrorOptions = {}) {
    const where = location.line === undefined ? location.file : `${location.file}:${location.line}${location.column === undefined ? "" : `:${location.column}`}`;
    super(code, `${where}: ${path === "" ? "" : `${path}: `}${reason}`, options);
    this.path = path;
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
    this.reason = reason;
  }
}

/**
 * Services depend on each other in a circle, so none of them can start first. `cycle` lists the
 * services in order, the first repeated at the end (`["a", "b", "a"]`). The message starts with
 * compose's words, `dependency cycle detected`.
 *
 * @example
 * ```ts
 * try { await new Stack("s").service("a", img, { dependsOn: { b: "started" } }).service("b", img, { dependsOn: { a: "started" } }).up(); }
 * catch (e) { if (e instanceof DependencyCycleError) console.log(e.cycle); } // ["a", "b", "a"]
 * ```
 */
export class DependencyCycleError extends BentoError {
  /** The services of the cycle, the first one repeated at the end. */
  readonly cycle: string[];

  constructor(cycle: string[], where = "") {
    super("ERR_STACK_CYCLE", `${where}dependency cycle detected: ${cycle.join(" -> ")}; remove one of these depends_on entries`);
    this.cycle = cycle;
  }
}

/**
 * A compose key that bento does not honour, with where it is and why.
 *
 * @example
 * ```ts
 * plan.unsupported; // [{ path: "services.web.privileged", reason: "privileged: true is not supported" }]
 * ```
 */
export interface UnsupportedKey {
  /** The dotted compose path, such as `services.web.cap_add` or `secrets`. */
  path: string;
  /** What bento cannot do there, and what to do instead when there is something. */
  reason: string;
}

/**
 * `up()` was asked to run a stack that uses compose keys bento does not honour (yet). Every such
 * key is listed with its path; nothing was started. Remove the keys, or the services that use them
 * (`up({ services })` starts only the ones named and their dependencies).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnsupportedComposeError) for (const k of e.keys) console.log(k.path, k.reason); }
 * ```
 */
export class UnsupportedComposeError extends BentoError {
  /** The keys that stop the stack from running, with their paths. */
  readonly keys: UnsupportedKey[];

  constructor(stack: string, keys: UnsupportedKey[]) {
    const list = keys.map((k) => `  ${k.path}: ${k.reason}`).join("\n");
    super(
      "ERR_STACK_UNSUPPORTED",
      `stack ${stack}: ${keys.length === 1 ? "this key is" : `these ${keys.length} keys are`} not supported by bento, so nothing was started; remove them, or start only services without them (up({ services }))\n${list}`,
    );
    this.keys = keys;
  }
}

/**
 * Details of a service that failed to start, for {@link ServiceStartupError}.
 *
 * @example
 * ```ts
 * new ServiceStartupError({ stackName: "shop", service: "db", phase: "wait", logTail: ["FATAL: bad config"] });
 * ```
 */
export interface ServiceStartupErrorDetails extends StartupErrorDetails {
  /** The stack's name. */
  stackName: string;
  /** The service that failed. */
  service: string;
}

/**
 * A service of a stack failed to start, become healthy or complete. A {@link StartupError} that also
 * names the stack and the service; the services already started were stopped and removed.
 *
 * @example
 * ```ts
 * try { await stack.up(); }
 * catch (e) { if (e instanceof ServiceStartupError) console.log(e.service, e.phase, e.logTail); }
 * ```
 */
export class ServiceStartupError extends StartupError {
  /** The stack's name (`stack` is the Error's stack trace). */
  readonly stackName: string;
  /** The service that failed. */
  readonly service: string;

  constructor(details: ServiceStartupErrorDetails, options: BentoErrorOptions = {}) {
    super(`service ${details.service} of stack ${details.stackName}`, details, options);
    this.stackName = details.stackName;
    this.service = details.service;
  }
}
