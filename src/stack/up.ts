/**
 * `up()`: checks a stack (dependencies, cycles, keys bento cannot honour) before anything is
 * created, makes its networks and volumes, then starts each service once what it depends on is
 * ready, independent services in parallel. On a failure it stops and removes what it started, and
 * throws a ServiceStartupError naming the service.
 */
import { existsSync, statSync } from "node:fs";
import { config } from "../config.js";
import { Container } from "../container/container.js";
import type { RunningContainer } from "../container/running-container.js";
import { BentoError, InvalidOptionError, StartupError, type StartupPhase } from "../errors.js";
import { Network } from "../network/network.js";
import { Volume } from "../volume/volume.js";
import { readVolumeRecord } from "../volume/volume-store.js";
import { Wait } from "../wait/wait.js";
import type { WaitStrategy } from "../wait/wait-strategy.js";
import { DependencyCycleError, ServiceStartupError, UnsupportedComposeError, type UnsupportedKey } from "./errors.js";
import { dependenciesFirst, findCycle, withDependencies } from "./graph.js";
import { runHooks } from "./hooks.js";
import type { DependencyCondition } from "./plan.js";
import { RunningStack, type StackEvent, type StackResources } from "./running-stack.js";
import { containerOptionsOf, imageOf, isImageLike, namedVolumesOf, type Made } from "./service-container.js";
import type { StackService, StackState } from "./stack-state.js";

/**
 * Options of `Stack.up()`.
 *
 * @example
 * ```ts
 * await stack.up({ services: ["web"], timeoutMs: 60_000, onProgress: (e) => console.log(e.service, e.status) });
 * ```
 */
export interface UpOptions {
  /** Start only these services, and the services they depend on (default: every service whose profiles are active). */
  services?: string[];
  /**
   * One deadline for the whole start, in ms (times `BENTO_TIMEOUT_SCALE`): each service's
   * `startupTimeoutMs` is cut to what is left of it. Default: none beyond each service's own.
   */
  timeoutMs?: number;
  /** Called at each step: starting, started, failed. */
  onProgress?: (event: StackEvent) => void;
  /**
   * Start every container detached (ContainerOptions.detach), so that other processes reach them
   * with `Container.attach` (exec, logs, stop). The stack's networks still live in this process:
   * it must run until `down()` (`bento compose up -d` keeps such a process in the background).
   */
  detach?: boolean;
}

/** A wait that is satisfied as soon as the command runs: compose's "started". */
const commandRuns: WaitStrategy = Object.freeze({ description: "the command to run", waitUntilReady: async () => undefined });

/** Marks a service that did not start because another failed first. */
class Skipped extends Error {}

/** The dependency graph: services and the dependencies of theirs that exist (a missing required one is an error). */
function graphOf(state: StackState): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const service of state.services.values()) {
    const deps: string[] = [];
    for (const [dep, spec] of Object.entries(service.dependsOn)) {
      if (state.services.has(dep)) deps.push(dep);
      else if (spec.required) {
        throw new InvalidOptionError(`services.${service.name}.dependsOn.${dep}`, `stack ${state.name} has no service ${JSON.stringify(dep)} (services: ${[...state.services.keys()].join(", ")}); add it, or remove the dependency`);
      }
    }
    graph.set(service.name, deps);
  }
  return graph;
}

/** The services to start: those asked for (or whose profiles are active) plus what they need. */
function selection(state: StackState, graph: Map<string, string[]>, requested: readonly string[] | undefined): StackService[] {
  const active = (s: StackService) => s.profiles.length === 0 || s.profiles.some((p) => state.profiles.includes(p));
  let roots: string[];
  if (requested !== undefined) {
    if (!Array.isArray(requested) || requested.some((n) => typeof n !== "string")) throw new InvalidOptionError("services", "must be an array of service names");
    for (const name of requested) {
      if (!state.services.has(name)) throw new InvalidOptionError("services", `stack ${state.name} has no service ${JSON.stringify(name)} (services: ${[...state.services.keys()].join(", ")})`);
    }
    roots = [...requested];
  } else {
    roots = [...state.services.values()].filter(active).map((s) => s.name);
  }
  // Optional dependencies come along only when they are enabled anyway.
  const enabled = new Set([...roots, ...[...state.services.values()].filter(active).map((s) => s.name)]);
  const needed = new Map<string, string[]>();
  for (const [name, deps] of graph) {
    const service = state.services.get(name)!;
    needed.set(
      name,
      deps.filter((d) => service.dependsOn[d]!.required || enabled.has(d)),
    );
  }
  const names = withDependencies(needed, roots);
  if (names.length === 0) throw new InvalidOptionError("services", `stack ${state.name} has no service to start (are all of them in inactive profiles? pass profiles, or name services in up({ services }))`);
  return names.map((n) => state.services.get(n)!);
}

/** Keys of the selected services that bento cannot honour: the loader's list plus what this runtime lacks. */
function unsupportedKeys(state: StackState, services: readonly StackService[]): UnsupportedKey[] {
  // Top-level keys count when they can affect what starts: the options of a network or volume a
  // selected service uses (or secret or config it mounts), and keys such as `include`.
  const usedNetworks = new Set(services.flatMap((s) => Object.keys(s.networks ?? {})));
  const usedVolumes = new Set(services.flatMap((s) => s.volumes.flatMap((v) => (v.type === "volume" && v.source !== undefined ? [v.source] : []))));
  const keys: UnsupportedKey[] = (state.compose?.unsupported ?? []).filter((k) => {
    const [top, name] = k.path.split(".");
    if (top === "networks") return usedNetworks.has(name!);
    if (top === "volumes") return usedVolumes.has(name!);
    if (top === "secrets" || top === "configs") return services.some((s) => s.files.some((f) => `${f.kind}s` === top && f.source === name));
    return true;
  });
  for (const s of services) {
    keys.push(...s.unsupported);
    const networks = Object.keys(s.networks ?? {});
    if (networks.length > 1) {
      keys.push({ path: `services.${s.name}.networks`, reason: `a container joins one network in bento, and this service lists ${networks.length} (${networks.join(", ")}); keep one` });
    }
    for (const n of networks) {
      if (state.compose?.networks[n]?.external) keys.push({ path: `networks.${n}.external`, reason: "external networks are not supported: a bento network lives as long as the stack that made it" });
    }
  }
  return [...new Map(keys.map((k) => [`${k.path}\n${k.reason}`, k])).values()];
}

/** The wait each service starts with: what its dependents need of it, and its own `wait`. */
function waitsOf(state: StackState, services: readonly StackService[]): Map<string, WaitStrategy> {
  const selected = new Set(services.map((s) => s.name));
  const needs = new Map<string, Set<DependencyCondition>>();
  for (const s of services) {
    for (const [dep, spec] of Object.entries(s.dependsOn)) {
      if (!selected.has(dep)) continue;
      if (!needs.has(dep)) needs.set(dep, new Set());
      needs.get(dep)!.add(spec.condition);
    }
  }
  const waits = new Map<string, WaitStrategy>();
  for (const s of services) {
    const conditions = needs.get(s.name) ?? new Set();
    if (conditions.has("healthy") && conditions.has("completed")) {
      const who = services.filter((d) => d.dependsOn[s.name]).map((d) => `${d.name} (${d.dependsOn[s.name]!.condition})`);
      throw new InvalidOptionError(`services.${s.name}`, `dependents need it both healthy and completed (${who.join(", ")}); a one-shot service cannot be both: pick one condition`);
    }
    const extra = conditions.has("completed") ? Wait.forExit() : conditions.has("healthy") ? Wait.forHealthy() : undefined;
    const own = s.options.wait;
    waits.set(s.name, extra && own ? Wait.forAll([own, extra]) : (extra ?? own ?? commandRuns));
  }
  return waits;
}

/** A ServiceStartupError from whatever a service's start threw. */
function serviceError(stackName: string, service: string, error: unknown, phase: StartupPhase): ServiceStartupError {
  if (error instanceof StartupError) {
    return new ServiceStartupError(
      {
        stackName,
        service,
        phase: error.phase,
        oomKilled: error.oomKilled,
        logTail: error.logTail,
        timedOut: error.timedOut,
        ...(error.exitCode === undefined ? {} : { exitCode: error.exitCode }),
        ...(error.signal === undefined ? {} : { signal: error.signal }),
        ...(error.waitingFor === undefined ? {} : { waitingFor: error.waitingFor }),
        ...(error.health === undefined ? {} : { health: error.health }),
        ...(error.listeningPorts === undefined ? {} : { listeningPorts: error.listeningPorts }),
      },
      error.cause === undefined ? {} : { cause: error.cause },
    );
  }
  const timedOut = (error as { code?: unknown }).code === "ERR_TIMEOUT";
  return new ServiceStartupError({ stackName, service, phase, ...(timedOut ? { timedOut, waitingFor: "its dependencies" } : {}) }, { cause: error });
}

/**
 * Starts a stack; see `Stack.up()`.
 *
 * @example
 * ```ts
 * const running = await upStack(state, { timeoutMs: 30_000 });
 * ```
 */
export async function upStack(state: StackState, options: UpOptions): Promise<RunningStack> {
  if (options.timeoutMs !== undefined && (typeof options.timeoutMs !== "number" || !Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
    throw new InvalidOptionError("timeoutMs", `${String(options.timeoutMs)} must be a positive number of milliseconds`);
  }
  if (state.services.size === 0) throw new InvalidOptionError("services", `stack ${state.name} has no services; add one with service(name, image)`);
  const graph = graphOf(state);
  const cycle = findCycle(graph);
  if (cycle) throw new DependencyCycleError(cycle, `stack ${state.name}: `);
  const services = selection(state, graph, options.services);
  const unsupported = unsupportedKeys(state, services);
  if (unsupported.length > 0) throw new UnsupportedComposeError(state.name, unsupported);
  const waits = waitsOf(state, services);
  for (const s of services) {
    for (const f of s.files) {
      const file = (f.kind === "secret" ? state.compose!.secrets : state.compose!.configs)[f.source]?.file;
      if (file !== undefined && !(existsSync(file) && statSync(file).isFile())) {
        throw new InvalidOptionError(`${f.kind}s.${f.source}.file`, `the file "${file}" (used by ${f.path}) does not exist or is not a file; create it, or fix the path in the compose file`);
      }
    }
    for (const v of s.volumes) {
      const top = v.type === "volume" && v.source !== undefined ? state.compose!.volumes[v.source]! : undefined;
      if (top?.external && readVolumeRecord(top.name) === undefined) {
        throw new InvalidOptionError(`volumes.${v.source}`, `the external volume "${top.name}" does not exist; create it first (await new Volume("${top.name}").create())`);
      }
    }
  }

  const emit = (event: Omit<StackEvent, "time">) => options.onProgress?.({ ...event, time: Date.now() });
  const scale = config().timeoutScale;
  const endsAt = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs * scale;
  const made: Made = { networks: new Map(), anonymous: new Map(), named: [] };
  const started: StackResources["started"] = [];
  const selected = new Set(services.map((s) => s.name));
  const resources: StackResources = { started, networks: [], anonymousVolumes: [], namedVolumes: made.named };
  let failure: ServiceStartupError | undefined;
  const startups = new Map<string, Promise<RunningContainer>>();
  const cleanUp = () => new RunningStack(state.name, resources, { onProgress: options.onProgress, supervise: false }).down().catch(() => undefined);

  const start = async (service: StackService, deps: readonly string[], ready: readonly Promise<RunningContainer>[]): Promise<RunningContainer> => {
    let depContainers: ReadonlyMap<string, RunningContainer>;
    try {
      const running = await Promise.all(ready);
      depContainers = new Map(deps.map((d, i) => [d, running[i]!]));
    } catch {
      throw new Skipped();
    }
    if (failure) throw new Skipped();
    emit({ service: service.name, status: "starting" });
    let phase: StartupPhase = "build";
    try {
      const image = imageOf(state, service);
      phase = "prepare";
      let startupTimeoutMs: number | undefined;
      if (endsAt !== undefined) {
        const leftMs = (endsAt - Date.now()) / scale;
        if (leftMs <= 0) throw new BentoError("ERR_TIMEOUT", `the stack's timeoutMs (${options.timeoutMs} ms) passed before ${service.name} could start`);
        startupTimeoutMs = Math.min(service.options.startupTimeoutMs ?? 60_000, Math.max(1, Math.floor(leftMs)));
      }
      const containerOptions = containerOptionsOf(state, service, made, waits.get(service.name)!, startupTimeoutMs, depContainers);
      const container = new Container(image, options.detach ? { ...containerOptions, detach: true } : containerOptions);
      phase = "setup";
      const c = await container.start().catch((error: unknown) => {
        // The image could not be resolved: a reference to pull or a plan to build.
        const code = (error as { code?: unknown }).code;
        if ((error instanceof InvalidOptionError && error.option === "image") || code === "ERR_BUILD_STEP" || code === "ERR_BUILD_CONTEXT" || code === "ERR_BASE_IMAGE_NOT_FOUND") phase = "build";
        throw error;
      });
      // Hooks run before dependents learn that it started (compose's post_start).
      if (service.hooks && service.hooks.postStart.length > 0) {
        try {
          await runHooks(c, service.hooks.postStart, `services.${service.name}.post_start`);
        } catch (error) {
          await c[Symbol.asyncDispose]().catch(() => undefined);
          throw error;
        }
      }
      started.push({ name: service.name, container: c, dependsOn: [...deps], restart: service.restart, postStart: service.hooks?.postStart ?? [], preStop: service.hooks?.preStop ?? [] });
      emit({ service: service.name, status: "started", id: c.id });
      return c;
    } catch (error) {
      const e = serviceError(state.name, service.name, error, phase);
      failure ??= e;
      emit({ service: service.name, status: "failed", detail: e.message.split("\n")[0] });
      throw e;
    }
  };

  try {
    // Networks and volumes first: compose's networks of the selected services, else the stack's own.
    const networkKeys = new Set<string>();
    for (const s of services) {
      if (s.options.network !== undefined || s.sharesNetworkOf !== undefined) continue;
      const key = s.networks === undefined ? "default" : Object.keys(s.networks)[0];
      if (key !== undefined) networkKeys.add(key);
    }
    for (const key of networkKeys) {
      const network = new Network(state.compose?.networks[key]?.name ?? `${state.name}_${key}`);
      resources.networks.push(network);
      await network.create();
      if (options.detach) network.keepForDetachedMembers();
      made.networks.set(key, network);
    }
    for (const s of services) {
      for (const v of s.volumes) {
        if (v.type !== "volume" || v.source !== undefined) continue;
        const volume = new Volume(undefined, { labels: { "dev.bento.stack": state.name, "dev.bento.stack.service": s.name } });
        resources.anonymousVolumes.push(volume);
        await volume.create();
        made.anonymous.set(v.path, volume);
      }
    }
    for (const name of new Set(services.flatMap((s) => namedVolumesOf(state, s)))) {
      const top = Object.values(state.compose?.volumes ?? {}).find((v) => v.name === name);
      const volume = new Volume(name, { labels: { ...top?.labels, "dev.bento.stack": state.name } });
      if (top !== undefined) await volume.create();
      made.named.push(volume);
    }
    // Compose images are pulled or built: load the build engine, which resolves such images.
    if (services.some((s) => !isImageLike(s.image) && !(s.image.ref !== undefined && state.images[s.image.ref] !== undefined))) {
      await import("../builder/index.js");
      await import("../registry/store.js"); // the registry, for the engine's pulls
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }
  // Each start is handed the startups of its dependencies, so the graph alone (never the order
  // services were declared in) decides who waits for whom.
  const selectedGraph = new Map(services.map((s) => [s.name, graph.get(s.name)!.filter((d) => selected.has(d))]));
  for (const name of dependenciesFirst(selectedGraph)) {
    const deps = selectedGraph.get(name)!;
    startups.set(
      name,
      start(
        state.services.get(name)!,
        deps,
        deps.map((d) => startups.get(d)!),
      ),
    );
  }
  await Promise.allSettled(startups.values());
  if (failure) {
    await cleanUp();
    throw failure;
  }
  return new RunningStack(state.name, resources, { onProgress: options.onProgress });
}
