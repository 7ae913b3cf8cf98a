/**
 * `RunningStack`: the started services of a stack, their logs, their restart policies, and
 * `down()`, which stops them in reverse dependency order and removes everything `up()` made.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RunningContainer } from "../container/running-container.js";
import { formatLines, readLogLines, type LogLine } from "../runtime/logs.js";
import { BentoError, InvalidOptionError } from "../errors.js";
import type { Network } from "../network/network.js";
import type { Volume } from "../volume/volume.js";
import type { LifecycleHookPlan, RestartPlan } from "./plan.js";
import { runHooks } from "./hooks.js";

/**
 * What happened to a service, for `onProgress`.
 *
 * @example
 * ```ts
 * const done = (e: StackEvent) => e.status === "started" || e.status === "removed";
 * ```
 */
export type StackEventStatus = "starting" | "started" | "failed" | "restarting" | "stopping" | "stopped" | "removed";

/**
 * One step of `up()` or `down()`.
 *
 * @example
 * ```ts
 * await stack.up({ onProgress: ({ service, status, id }) => console.log(`${service} ${status} ${id ?? ""}`) });
 * ```
 */
export interface StackEvent {
  /** The service it concerns. */
  service: string;
  /** What happened to the service's container. */
  status: StackEventStatus;
  /** When, in ms since the epoch. */
  time: number;
  /** The container's id, once there is one. */
  id?: string;
  /** For "failed" and "restarting": why. */
  detail?: string;
}

/**
 * Options of {@link RunningStack.down}.
 *
 * @example
 * ```ts
 * await running.down({ removeVolumes: true, timeoutMs: 2_000, onProgress: (e) => console.log(e.service, e.status) });
 * ```
 */
export interface DownOptions {
  /**
   * Also remove the named volumes the services mount (for a compose file: its volumes that are
   * not `external`). Anonymous volumes are always removed.
   */
  removeVolumes?: boolean;
  /** How long each container gets between its stop signal and SIGKILL (default: its stopTimeoutMs / stop_grace_period). */
  timeoutMs?: number;
  /** Called at each step: stopping, stopped, removed. */
  onProgress?: (event: StackEvent) => void;
}

/**
 * Options of {@link RunningStack.logs}.
 *
 * @example
 * ```ts
 * await running.logs({ services: ["web"], tail: 20, timestamps: true });
 * ```
 */
export interface StackLogOptions {
  /** Only these services (default all). */
  services?: string[];
  /** At most this many lines per service, the last ones. */
  tail?: number;
  /** Prefix each line with its timestamp. */
  timestamps?: boolean;
  /** "stdout", "stderr" or "both" (default). */
  stream?: "stdout" | "stderr" | "both";
}

/** @internal What up() made, handed to the RunningStack that owns it. */
export interface StackResources {
  /** Services in the order they started, with their dependencies (among started services). */
  readonly started: { name: string; container: RunningContainer; dependsOn: string[]; restart: RestartPlan; postStart?: readonly LifecycleHookPlan[]; preStop?: readonly LifecycleHookPlan[] }[];
  readonly networks: Network[];
  readonly anonymousVolumes: Volume[];
  /** Named volumes `down({ removeVolumes: true })` removes. */
  readonly namedVolumes: Volume[];
}

/** How often a restart policy looks whether its container exited (an unref'd poll: it never keeps Node alive). */
const restartPollMs = 100;

/**
 * A started stack. `service(name)` is the RunningContainer of a service; `down()` (or
 * `await using`) stops everything in reverse dependency order and removes it.
 *
 * @example
 * ```ts
 * await using running = await stack.up();
 * const web = running.service("web");
 * console.log(await running.logs({ tail: 20 }));
 * ```
 */
export class RunningStack implements AsyncDisposable {
  readonly #name: string;
  readonly #resources: StackResources;
  readonly #byName: Map<string, StackResources["started"][number]>;
  readonly #onProgress: ((event: StackEvent) => void) | undefined;
  readonly #restarting = new Map<string, Promise<unknown>>();
  readonly #supervisors: Promise<void>[] = [];
  readonly #restarts = new Map<string, number>();
  #stopping = false;
  readonly #stopped = new AbortController();
  #down: Promise<void> | undefined;

  /** @internal */
  constructor(name: string, resources: StackResources, options: { onProgress?: ((event: StackEvent) => void) | undefined; supervise?: boolean } = {}) {
    this.#name = name;
    this.#resources = resources;
    this.#byName = new Map(resources.started.map((s) => [s.name, s]));
    this.#onProgress = options.onProgress;
    if (options.supervise ?? true) {
      for (const s of resources.started) if (s.restart.policy !== "no") this.#supervisors.push(this.#supervise(s.name, s.restart));
    }
  }

  /** The stack's name. */
  get name(): string {
    return this.#name;
  }

  /** The started services, in the order they started. */
  get services(): string[] {
    return this.#resources.started.map((s) => s.name);
  }

  /**
   * The running container of a service. Throws for a service that is not part of this stack or
   * was not started.
   *
   * @example
   * ```ts
   * const { stdout } = await running.service("db").exec(["pg_isready"]);
   * ```
   */
  service(name: string): RunningContainer {
    const s = this.#byName.get(name);
    if (s === undefined) {
      throw new InvalidOptionError("service", `${JSON.stringify(name)} is not a started service of stack ${this.#name} (started: ${this.services.join(", ") || "none"})`);
    }
    return s.container;
  }

  /**
   * How many times a service's restart policy restarted it.
   *
   * @example
   * ```ts
   * running.restartCount("worker"); // 2
   * ```
   */
  restartCount(name: string): number {
    this.service(name);
    return this.#restarts.get(name) ?? 0;
  }

  /**
   * The output of every service (or those named), interleaved by time, each line prefixed with
   * its service as compose prints it: `web  | listening on 8080`.
   *
   * @example
   * ```ts
   * console.log(await running.logs({ services: ["web", "db"], tail: 50 }));
   * ```
   */
  async logs(options: StackLogOptions = {}): Promise<string> {
    const names = options.services ?? this.services;
    for (const n of names) this.service(n);
    const width = Math.max(0, ...names.map((n) => n.length));
    const tagged: { service: string; line: LogLine; order: number }[] = [];
    for (const n of names) {
      const { logPath } = await this.service(n).inspect();
      const lines = await readLogLines(logPath, { ...(options.tail === undefined ? {} : { tail: options.tail }), ...(options.stream === undefined ? {} : { stream: options.stream }) });
      lines.forEach((line) => tagged.push({ service: n, line, order: tagged.length }));
    }
    // ISO timestamps with nanoseconds sort as text; ties keep each service's own order.
    tagged.sort((a, b) => (a.line.timestamp < b.line.timestamp ? -1 : a.line.timestamp > b.line.timestamp ? 1 : a.order - b.order));
    return tagged
      .map(({ service, line }) => {
        const text = formatLines([line], options.timestamps);
        return `${service.padEnd(width)} | ${text.endsWith("\n") ? text : `${text}\n`}`;
      })
      .join("");
  }

  /**
   * Stops the services in reverse dependency order (a service stops once every service that
   * depends on it has stopped; independent ones in parallel), removes the containers, the
   * stack's networks and its anonymous volumes, and with `removeVolumes` its named volumes.
   * Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * await running.down({ removeVolumes: true, timeoutMs: 2_000 });
   * ```
   */
  down(options: DownOptions = {}): Promise<void> {
    this.#down ??= this.#teardown(options);
    return this.#down;
  }

  /** Downs the stack (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }

  #emit(event: Omit<StackEvent, "time">, onProgress = this.#onProgress): void {
    onProgress?.({ ...event, time: Date.now() });
  }

  async #teardown(options: DownOptions): Promise<void> {
    if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0)) {
      throw new InvalidOptionError("timeoutMs", `${options.timeoutMs} must be 0 or more milliseconds`);
    }
    this.#stopping = true;
    this.#stopped.abort();
    await Promise.allSettled([...this.#restarting.values()]);
    const errors: unknown[] = [];
    const onProgress = options.onProgress ?? this.#onProgress;
    const stopping = new Map<string, Promise<void>>();
    const stop = (name: string): Promise<void> => {
      let done = stopping.get(name);
      if (done === undefined) {
        done = (async () => {
          const dependents = this.#resources.started.filter((s) => s.dependsOn.includes(name)).map((s) => s.name);
          await Promise.all(dependents.map(stop));
          const { container, preStop = [] } = this.#byName.get(name)!;
          try {
            const id = container.id;
            this.#emit({ service: name, status: "stopping", id }, onProgress);
            // A failed pre_stop hook is reported, and the container still stops.
            if (preStop.length > 0 && container.pid !== undefined) await runHooks(container, preStop, `services.${name}.pre_stop`).catch((e: unknown) => errors.push(e));
            const stopped = await container.stop(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
            this.#emit({ service: name, status: "stopped", id }, onProgress);
            await stopped.remove();
            this.#emit({ service: name, status: "removed", id }, onProgress);
          } catch (error) {
            errors.push(error);
            await container[Symbol.asyncDispose]().catch((e: unknown) => errors.push(e));
          }
        })();
        stopping.set(name, done);
      }
      return done;
    };
    await Promise.all(this.services.map(stop));
    await Promise.allSettled(this.#supervisors);
    for (const network of this.#resources.networks) await network.remove().catch((e: unknown) => errors.push(e));
    const volumes = [...this.#resources.anonymousVolumes, ...(options.removeVolumes ? this.#resources.namedVolumes : [])];
    for (const volume of volumes) await volume.remove().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) {
      const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
      throw new BentoError("ERR_STACK_DOWN", `down ${this.#name}: ${errors.length} step${errors.length > 1 ? "s" : ""} failed (everything else was removed):\n  ${messages.join("\n  ")}`, { cause: errors[0] });
    }
  }

  /** Sleeps without keeping Node alive; false when the stack went down meanwhile. */
  async #pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { ref: false, signal: this.#stopped.signal });
    } catch {
      return false;
    }
    return !this.#stopping;
  }

  /** Restarts a service after it exits, as its policy says, until the stack goes down. */
  async #supervise(name: string, restart: RestartPlan): Promise<void> {
    const container = this.#byName.get(name)!.container;
    let delayMs = 100;
    for (;;) {
      let state: Awaited<ReturnType<RunningContainer["inspect"]>>["state"];
      try {
        state = (await container.inspect()).state;
      } catch {
        return;
      }
      if (this.#stopping || state.status === "removed") return;
      if (state.status !== "exited") {
        if (!(await this.#pause(restartPollMs))) return;
        continue;
      }
      const code = state.exitCode ?? 0;
      if (restart.policy === "on-failure" && code === 0) return;
      const count = this.#restarts.get(name) ?? 0;
      if (restart.policy === "on-failure" && restart.maxRetries !== undefined && count >= restart.maxRetries) return;
      // Docker's back-off: the delay doubles with each restart (here up to 5 s).
      if (!(await this.#pause(delayMs))) return;
      delayMs = Math.min(delayMs * 2, 5_000);
      this.#restarts.set(name, count + 1);
      this.#emit({ service: name, status: "restarting", id: container.id, detail: `exit code ${code}, restart ${count + 1}` });
      // Docker runs post_start hooks at every start, restarts included.
      const postStart = this.#byName.get(name)!.postStart ?? [];
      const restarting = container.restart().then(async (restarted) => {
        if (postStart.length > 0) await runHooks(restarted, postStart, `services.${name}.post_start`);
        return restarted;
      });
      this.#restarting.set(name, restarting);
      try {
        await restarting;
      } catch (error) {
        this.#emit({ service: name, status: "failed", detail: error instanceof Error ? error.message : String(error) });
        return;
      } finally {
        this.#restarting.delete(name);
      }
    }
  }
}
