/**
 * `Stack`: several containers started together, in dependency order, on their own network. An
 * immutable builder (each `service()` returns a new Stack), from code or from a compose file;
 * `up()` gives a {@link RunningStack}.
 */
import { cryptoModule } from "../deps.js";
import type { ImageLike } from "../container/image-source.js";
import { normalizeOptions, type ContainerOptions } from "../container/options.js";
import { InvalidOptionError } from "../errors.js";
import type { Image } from "../image/image.js";
import { Network } from "../network/network.js";
import { loadCompose, type ComposeText, type LoadComposeOptions } from "./compose/load.js";
import type { DependencyCondition, DependencyPlan, RestartPlan, StackPlan } from "./plan.js";
import type { RunningStack } from "./running-stack.js";
import type { ComposeImageSource, StackService, StackState } from "./stack-state.js";
import type { UpOptions } from "./up.js";

/**
 * A service given as container options plus its image.
 *
 * @example
 * ```ts
 * stack.service("web", { image: app, command: ["npm", "start"], ports: [8080], env: { MODE: "test" } });
 * ```
 */
export interface ServiceDefinition extends ContainerOptions {
  /** The image the service runs. */
  image: Image | ImageLike;
}

/**
 * Restart policies of a service while the stack runs (compose's `restart`).
 *
 * @example
 * ```ts
 * stack.service("worker", worker, { restart: "on-failure", maxRestarts: 3 });
 * ```
 */
export type RestartPolicy = "no" | "on-failure" | "always" | "unless-stopped";

/**
 * How a service relates to the others.
 *
 * @example
 * ```ts
 * stack.service("web", app, { dependsOn: { db: "healthy", migrate: "completed" }, restart: "always" });
 * ```
 */
export interface ServiceOptions {
  /**
   * Services to wait for before this one starts: `"started"` (it runs), `"healthy"` (its
   * healthcheck passed), `"completed"` (it exited with code 0).
   */
  dependsOn?: Record<string, DependencyCondition>;
  /** Restart the container when it exits while the stack runs (default "no"). */
  restart?: RestartPolicy;
  /** With `restart: "on-failure"`: give up after this many restarts. */
  maxRestarts?: number;
}

/**
 * Options of {@link Stack.fromCompose} and {@link Stack.fromPlan}.
 *
 * @example
 * ```ts
 * Stack.fromCompose("compose.yaml", { images: { "redis:7": Image.fromRootfs("/srv/redis") }, profiles: ["debug"] });
 * ```
 */
export interface StackComposeOptions {
  /**
   * Images to use instead of pulling or building, by the reference a service's `image:` names
   * (after interpolation): `{ "postgres:16": Image.fromRootfs("/srv/pg") }`.
   */
  images?: Record<string, Image | ImageLike>;
  /** Active profiles: services with `profiles:` start only when one of theirs is active (or when named in `up({ services })`). */
  profiles?: string[];
}

const stackNamePattern = /^[a-z0-9][a-z0-9_-]*$/;
const serviceNamePattern = /^[a-zA-Z0-9._-]+$/;
const conditions = new Set<DependencyCondition>(["started", "healthy", "completed"]);
const restartPolicies = new Set<RestartPolicy>(["no", "on-failure", "always", "unless-stopped"]);

// Validation only: services that give no network join the stack's, so aliases are valid for them.
const placeholderNetwork = new Network("validation");

// The state the next `new Stack()` takes; set only by `Stack.#of`, synchronously, just before `new`.
let pendingState: StackState | undefined;

function isImageLike(value: unknown): value is ImageLike {
  return typeof value === "object" && value !== null && typeof (value as ImageLike).toPlan === "function";
}

/** Freezes plain data this module made (never the caller's objects: their options stay theirs). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Freezes a service: its own structures deeply, its container options (which may hold a Network, a wait strategy, functions) at the top only, unless they are a plan's copy. */
function freezeService(service: StackService, ownOptions: boolean): StackService {
  for (const part of [service.dependsOn, service.restart, service.profiles, service.volumes, service.networks, service.unsupported, service.files, service.hooks, service.image]) {
    if (!isImageLike(part)) deepFreeze(part);
  }
  if (ownOptions) deepFreeze(service.options);
  else Object.freeze(service.options);
  return Object.freeze(service);
}

function freezeState(state: StackState): StackState {
  if (state.compose) deepFreeze(state.compose);
  Object.freeze(state.images);
  Object.freeze(state.profiles);
  return Object.freeze(state);
}

/** Checks container options as `new Container()` would, naming the service in the error. */
function checkOptions(service: string, options: ContainerOptions): void {
  try {
    normalizeOptions(options.network === undefined ? { ...options, network: placeholderNetwork } : options);
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      const reason = error.message.startsWith(`${error.option}: `) ? error.message.slice(error.option.length + 2) : error.message;
      throw new InvalidOptionError(`services.${service}.${error.option}`, reason);
    }
    throw error;
  }
}

/**
 * Several containers that start together: each `service()` adds one (the stack is immutable, so
 * a base stack can be branched), and `up()` starts them in dependency order, independent ones in
 * parallel, each on the stack's own network where the others reach it by its service name.
 *
 * @example
 * ```ts
 * const stack = new Stack("shop")
 *   .service("db", { image: postgres, healthcheck: { test: "pg_isready", intervalMs: 200 } })
 *   .service("migrate", { image: app, command: ["migrate"] }, { dependsOn: { db: "healthy" } })
 *   .service("web", { image: app, ports: [8080] }, { dependsOn: { migrate: "completed" } });
 * await using running = await stack.up({ timeoutMs: 60_000 });
 * await fetch(`http://127.0.0.1:${running.service("web").hostPort(8080)}/`);
 * ```
 */
export class Stack {
  readonly #state: StackState;

  /**
   * An empty stack. `name` (lower-case letters, digits, "_" and "-") prefixes its containers'
   * names (`<name>-<service>-1`); default a random one.
   *
   * @example
   * ```ts
   * const stack = new Stack("checkout").service("redis", redisImage);
   * ```
   */
  constructor(name?: string) {
    if (pendingState !== undefined) {
      this.#state = pendingState;
      pendingState = undefined;
    } else {
      if (name !== undefined && (typeof name !== "string" || !stackNamePattern.test(name))) {
        throw new InvalidOptionError("name", `${JSON.stringify(name)} is not a stack name: use lower-case letters, digits, "_" and "-", starting with a letter or digit`);
      }
      this.#state = freezeState({ name: name ?? `stack-${cryptoModule().randomBytes(4).toString("hex")}`, services: new Map(), images: {}, profiles: [] });
    }
    Object.freeze(this);
  }

  static #of(state: StackState): Stack {
    pendingState = state;
    return new Stack();
  }

  /**
   * A stack from a compose file (or `{ yaml }` text): see {@link loadCompose} for what is read
   * and checked. Build contexts are not read until `up()`. Keys bento does not honour are kept
   * in the plan, and `up()` refuses to run services that use them, listing each with its path.
   *
   * @example
   * ```ts
   * const stack = Stack.fromCompose("./compose.yaml", { env: { TAG: "16" }, images: { "postgres:16": pg } });
   * await using running = await stack.up();
   * ```
   */
  static fromCompose(file: string | readonly string[], options?: LoadComposeOptions & StackComposeOptions): Stack;
  static fromCompose(source: ComposeText & StackComposeOptions): Stack;
  static fromCompose(fileOrSource: string | readonly string[] | (ComposeText & StackComposeOptions), options: LoadComposeOptions & StackComposeOptions = {}): Stack {
    const isPath = typeof fileOrSource === "string" || Array.isArray(fileOrSource);
    const plan = isPath ? loadCompose(fileOrSource as string | readonly string[], options) : loadCompose(fileOrSource as ComposeText);
    return Stack.fromPlan(plan, isPath ? options : (fileOrSource as ComposeText & StackComposeOptions));
  }

  /**
   * A stack from a loaded compose plan ({@link loadCompose}).
   *
   * @example
   * ```ts
   * const plan = loadCompose("./compose.yaml");
   * const stack = Stack.fromPlan(plan, { profiles: ["debug"] });
   * ```
   */
  static fromPlan(plan: StackPlan, options: StackComposeOptions = {}): Stack {
    const services = new Map<string, StackService>();
    for (const [name, s] of Object.entries(plan.services)) {
      const prefix = `services.${name}`;
      const image: ComposeImageSource = {};
      if (s.image !== undefined) image.ref = s.image;
      if (s.build !== undefined) image.build = s.build;
      services.set(
        name,
        freezeService(
          {
            name,
            image,
            options: structuredClone(s.options),
            dependsOn: structuredClone(s.dependsOn),
            restart: structuredClone(s.restart),
            profiles: [...s.profiles],
            volumes: structuredClone(s.volumes),
            networks: s.options.network === undefined ? structuredClone(s.networks) : {},
            ...(s.sharesNetworkOf === undefined ? {} : { sharesNetworkOf: s.sharesNetworkOf }),
            ...(s.sharesPidOf === undefined ? {} : { sharesPidOf: s.sharesPidOf }),
            ...(s.sharesIpcOf === undefined ? {} : { sharesIpcOf: s.sharesIpcOf }),
            ...(s.postStart?.length || s.preStop?.length ? { hooks: { postStart: structuredClone(s.postStart ?? []), preStop: structuredClone(s.preStop ?? []) } } : {}),
            unsupported: plan.unsupported.filter((u) => u.path === prefix || u.path.startsWith(`${prefix}.`) || u.path.startsWith(`${prefix}[`)),
            files: structuredClone(s.files ?? []),
          },
          true,
        ),
      );
    }
    const topLevel = plan.unsupported.filter((u) => !u.path.startsWith("services."));
    const images: Record<string, ImageLike> = {};
    for (const [ref, img] of Object.entries(options.images ?? {})) {
      if (!isImageLike(img)) throw new InvalidOptionError(`images.${ref}`, "must be an Image, e.g. Image.fromRootfs(dir)");
      images[ref] = img;
    }
    return Stack.#of(
      freezeState({
        name: plan.name,
        services,
        compose: {
          networks: structuredClone(plan.networks),
          volumes: structuredClone(plan.volumes),
          secrets: structuredClone(plan.secrets ?? {}),
          configs: structuredClone(plan.configs ?? {}),
          unsupported: topLevel,
        },
        images,
        profiles: [...(options.profiles ?? [])],
      }),
    );
  }

  /** The stack's name: its containers are `<name>-<service>-1`. */
  get name(): string {
    return this.#state.name;
  }

  /** The services' names, in the order they were added. */
  get services(): string[] {
    return [...this.#state.services.keys()];
  }

  /**
   * Adds a service: an Image, or container options with an `image`. The options are checked now
   * (as `new Container()` checks them), naming the service in the error. Returns a new Stack.
   *
   * @example
   * ```ts
   * const withCache = stack.service("cache", { image: redis, command: ["redis-server", "--save", ""] });
   * const withWorker = withCache.service("worker", worker, { dependsOn: { cache: "started", db: "healthy" }, restart: "on-failure" });
   * ```
   */
  service(name: string, imageOrDefinition: Image | ImageLike | ServiceDefinition, options: ServiceOptions = {}): Stack {
    if (typeof name !== "string" || !serviceNamePattern.test(name)) {
      throw new InvalidOptionError("service", `${JSON.stringify(name)} is not a service name: use letters, digits, ".", "_" and "-"`);
    }
    if (this.#state.services.has(name)) {
      throw new InvalidOptionError(`services.${name}`, "is already defined; give the new service another name (a stack is immutable: branch from the stack before it was added)");
    }
    let image: ImageLike;
    let containerOptions: ContainerOptions;
    if (isImageLike(imageOrDefinition)) {
      image = imageOrDefinition;
      containerOptions = {};
    } else if (typeof imageOrDefinition === "object" && imageOrDefinition !== null && isImageLike((imageOrDefinition as ServiceDefinition).image)) {
      const { image: img, ...rest } = imageOrDefinition as ServiceDefinition;
      image = img;
      containerOptions = rest;
    } else {
      throw new InvalidOptionError(`services.${name}`, "expected an Image, or container options with an image: { image, command, ports, ... }");
    }
    checkOptions(name, containerOptions);
    const dependsOn: Record<string, DependencyPlan> = {};
    for (const [dep, condition] of Object.entries(options.dependsOn ?? {})) {
      if (!conditions.has(condition)) throw new InvalidOptionError(`services.${name}.dependsOn.${dep}`, `${JSON.stringify(condition)} is not a condition; use "started", "healthy" or "completed"`);
      dependsOn[dep] = { condition, required: true };
    }
    const policy = options.restart ?? "no";
    if (!restartPolicies.has(policy)) throw new InvalidOptionError(`services.${name}.restart`, `${JSON.stringify(policy)} is not a restart policy; use "no", "on-failure", "always" or "unless-stopped"`);
    let restart: RestartPlan = { policy: policy === "on-failure" ? "on-failure" : policy };
    if (options.maxRestarts !== undefined) {
      if (policy !== "on-failure") throw new InvalidOptionError(`services.${name}.maxRestarts`, 'applies to restart: "on-failure" only');
      if (!Number.isSafeInteger(options.maxRestarts) || options.maxRestarts < 0) throw new InvalidOptionError(`services.${name}.maxRestarts`, `${options.maxRestarts} must be a whole number, 0 or more`);
      restart = { policy: "on-failure", maxRetries: options.maxRestarts };
    }
    const services = new Map(this.#state.services);
    services.set(name, freezeService({ name, image, options: { ...containerOptions }, dependsOn, restart, profiles: [], volumes: [], networks: undefined, unsupported: [], files: [] }, false));
    return Stack.#of(freezeState({ ...this.#state, services }));
  }

  /**
   * Starts the services (all, or those named and what they depend on) and resolves when each has
   * started; see {@link UpOptions}. Dependencies start first, independent services in parallel. A
   * service is started once its command runs, or once its own `wait` strategy passes; a
   * dependency that a dependent needs `"healthy"` is also waited for until its healthcheck passes,
   * and one it needs `"completed"` until it exits with code 0 (so its other dependents wait for
   * that too). If a service fails, no further service starts; once the starts under way have
   * settled, every service started is stopped and removed, and a ServiceStartupError names the
   * service, the phase and its last log lines. Before anything starts, a dependency cycle is a
   * DependencyCycleError and compose keys bento does not honour are an UnsupportedComposeError.
   *
   * @example
   * ```ts
   * await using running = await stack.up({ services: ["web"], timeoutMs: 30_000 });
   * running.service("web").hostPort(8080);
   * ```
   */
  async up(options: UpOptions = {}): Promise<RunningStack> {
    // Bringing a stack up loads its code on the first call: `import "bento"` need not compile it.
    const { upStack } = await import("./up.js");
    return upStack(this.#state, options);
  }
}
