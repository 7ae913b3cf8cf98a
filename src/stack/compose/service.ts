/**
 * One compose service, normalized: every key is either turned into plan data (most of it the
 * service's ContainerOptions), or reported as unsupported with its path. Nothing is dropped.
 * Over 400 lines: the table of every compose service key and its normalizer, kept in one place
 * so a key cannot be handled twice or dropped.
 */
import path from "node:path";
import type { TmpfsMount } from "../../container/mounts.js";
import type { ContainerOptions } from "../../container/options.js";
import type { DeviceSpec } from "../../container/device-options.js";
import { InvalidOptionError } from "../../errors.js";
import { normalizeOptions } from "../../container/options.js";
import type { PortSpec } from "../../network/port-spec.js";
import type { ResourceOptions } from "../../runtime/limits.js";
import { parseBytes } from "../../runtime/limits.js";
import { signalNumber } from "../../runtime/wait-status.js";
import type { ContainerHealthcheck } from "../../container/options.js";
import type { BuildPlan, DependencyCondition, DependencyPlan, RestartPlan, ServiceNetworkPlan, ServicePlan, VolumeMountPlan } from "../plan.js";
import { at, checked, toBool, toDurationMs, toInt, toPositiveNumber, toStringList, toStringMap, type NormalizeContext, type Segments } from "./context.js";
import { DotenvSyntaxError, parseDotenv } from "./dotenv.js";
import { parseExposeEntry, parsePortEntry } from "./ports.js";
import { acceptedKeys } from "./accepted.js";
import { serviceFiles } from "./secrets.js";
import { lifecycleHooks } from "./hooks.js";
import { namespaceKeys } from "./namespaces.js";
import { systemOptions } from "./system.js";
import { splitShellWords } from "./shell-words.js";
import { parseTmpfsEntry, parseVolumeEntry } from "./volumes.js";

/** What the rest of the document declares, for references. */
export interface Declarations {
  volumes: ReadonlySet<string>;
  networks: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  configs: ReadonlySet<string>;
}

const conditions: Record<string, DependencyCondition> = {
  service_started: "started",
  service_healthy: "healthy",
  service_completed_successfully: "completed",
};

/** Why some keys are not supported, where there is more to say than "not supported". */
const unsupportedReasons: Record<string, string> = {
  links: "links are obsolete and not supported; services reach each other by service name",
  external_links: "external_links are not supported",
  pull_policy: "pull_policy is not supported; set BENTO_PULL_POLICY",
};

function command(ctx: NormalizeContext, segments: Segments, value: unknown): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(String);
  const split = splitShellWords(String(value));
  if ("error" in split) return ctx.fail(segments, `${JSON.stringify(value)}: ${split.error}; close it, or write the command as a list`);
  return split.words;
}

function build(ctx: NormalizeContext, segments: Segments, value: unknown): BuildPlan {
  if (typeof value === "string") return { context: path.resolve(ctx.projectDir, value), args: {} };
  const b = value as Record<string, unknown>;
  const context = path.resolve(ctx.projectDir, typeof b.context === "string" ? b.context : ".");
  const plan: BuildPlan = { context, args: toStringMap(ctx, at(segments, "args"), b.args, (k) => ctx.lookup(k)) };
  if (b.dockerfile !== undefined && b.dockerfile_inline !== undefined) ctx.fail(segments, "dockerfile and dockerfile_inline cannot both be set; keep one");
  if (typeof b.dockerfile === "string") plan.dockerfile = path.resolve(context, b.dockerfile);
  if (typeof b.dockerfile_inline === "string") plan.dockerfileInline = b.dockerfile_inline;
  if (typeof b.target === "string") plan.target = b.target;
  for (const key of Object.keys(b)) {
    if (!["context", "dockerfile", "dockerfile_inline", "args", "target"].includes(key) && !key.startsWith("x-")) ctx.unsupported(at(segments, key), `build ${key} is not supported`);
  }
  return plan;
}

function envFiles(ctx: NormalizeContext, segments: Segments, value: unknown): Record<string, string> {
  const entries = typeof value === "string" ? [value] : (value as unknown[]);
  const env: Record<string, string> = {};
  entries.forEach((entry, i) => {
    const segs = typeof value === "string" ? segments : at(segments, i);
    const long = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : undefined;
    const file = path.resolve(ctx.projectDir, long ? String(long.path) : String(entry));
    const required = long?.required === undefined ? true : toBool(ctx, at(segs, "required"), long.required);
    if (long?.format !== undefined) ctx.unsupported(at(segs, "format"), "env_file format is not supported (the default dotenv format is)");
    const text = ctx.readText(file, segs);
    if (text === undefined) {
      if (required) ctx.fail(segs, `the env file "${file}" does not exist; create it, or mark it { path, required: false }`, "ERR_COMPOSE_FILE");
      return;
    }
    try {
      Object.assign(env, parseDotenv(text, ctx.lookup));
    } catch (error) {
      if (error instanceof DotenvSyntaxError) ctx.fail(segs, `${file}:${error.line}: ${error.message}`, "ERR_COMPOSE_FILE");
      throw error;
    }
  });
  return env;
}

function healthcheck(ctx: NormalizeContext, segments: Segments, value: Record<string, unknown>): ContainerHealthcheck {
  const disabled = value.disable === undefined ? false : toBool(ctx, at(segments, "disable"), value.disable);
  if (disabled) {
    if (value.test !== undefined) ctx.fail(segments, "disable: true and test cannot both be set; remove one");
    return { test: ["NONE"] };
  }
  const plan: ContainerHealthcheck = {};
  const test = value.test;
  if (typeof test === "string") {
    if (test.trim() === "") ctx.fail(at(segments, "test"), "the test is empty; give a shell command, or use disable: true");
    plan.test = ["CMD-SHELL", test];
  } else if (Array.isArray(test)) {
    const [kind, ...rest] = test.map(String);
    if (kind === "NONE") plan.test = ["NONE"];
    else if (kind === "CMD" && rest.length > 0) plan.test = ["CMD", ...rest];
    else if (kind === "CMD-SHELL" && rest.length > 0) plan.test = ["CMD-SHELL", rest.join(" ")];
    else ctx.fail(at(segments, "test"), `${JSON.stringify(test)} must start with "CMD" or "CMD-SHELL" followed by the command, or be ["NONE"]`);
  }
  const durations = [
    ["interval", "intervalMs"],
    ["timeout", "timeoutMs"],
    ["start_period", "startPeriodMs"],
    ["start_interval", "startIntervalMs"],
  ] as const;
  for (const [key, field] of durations) if (value[key] !== undefined) plan[field] = toDurationMs(ctx, at(segments, key), value[key]);
  if (value.retries !== undefined) plan.retries = toInt(ctx, at(segments, "retries"), value.retries, 0);
  return plan;
}

function dependsOn(ctx: NormalizeContext, segments: Segments, value: unknown): Record<string, DependencyPlan> {
  const out: Record<string, DependencyPlan> = {};
  if (Array.isArray(value)) {
    for (const name of value) out[String(name)] = { condition: "started", required: true };
    return out;
  }
  for (const [name, dep] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    const segs = at(segments, name);
    const condition = conditions[String(dep.condition)];
    if (condition === undefined) ctx.fail(at(segs, "condition"), `${JSON.stringify(dep.condition)} is not a condition; use service_started, service_healthy or service_completed_successfully`);
    const required = dep.required === undefined ? true : toBool(ctx, at(segs, "required"), dep.required);
    if (dep.restart !== undefined && toBool(ctx, at(segs, "restart"), dep.restart)) ctx.unsupported(at(segs, "restart"), "restarting dependents when a dependency restarts is not supported");
    out[name] = { condition, required };
  }
  return out;
}

function restart(ctx: NormalizeContext, segments: Segments, value: string): RestartPlan {
  const m = /^on-failure(?::(\d+))?$/.exec(value);
  if (value === "no") return { policy: "no" };
  if (m) return m[1] === undefined ? { policy: "on-failure" } : { policy: "on-failure", maxRetries: Number(m[1]) };
  if (value === "always" || value === "unless-stopped") return { policy: value };
  return ctx.fail(segments, `${JSON.stringify(value)} is not a restart policy; use "no", "on-failure", "on-failure:3", "always" or "unless-stopped"`);
}

function networks(ctx: NormalizeContext, segments: Segments, value: unknown, declared: ReadonlySet<string>): Record<string, ServiceNetworkPlan> {
  const out: Record<string, ServiceNetworkPlan> = {};
  const entries: [string, Record<string, unknown> | null][] = Array.isArray(value) ? value.map((n) => [String(n), null]) : Object.entries(value as Record<string, Record<string, unknown> | null>);
  entries.forEach(([name, options], i) => {
    const segs = Array.isArray(value) ? at(segments, i) : at(segments, name);
    if (name !== "default" && !declared.has(name)) ctx.fail(segs, `refers to the undefined network ${JSON.stringify(name)}; declare it under the top-level networks key`);
    const aliases = options?.aliases === undefined ? [] : toStringList(options.aliases);
    for (const key of Object.keys(options ?? {})) {
      if (key !== "aliases" && !key.startsWith("x-")) ctx.unsupported(at(segs, key), `network ${key} is not supported: bento assigns each service's address itself`);
    }
    out[name] = { aliases };
  });
  return out;
}

/** Keys that set what a network namespace holds: a service sharing another's takes them from it. */
const networkNamespaceKeys = ["ports", "hostname", "extra_hosts", "dns", "dns_search", "dns_opt", "mac_address"];

/**
 * `network_mode: service:x`: the service enters x's network namespace (same localhost, x's
 * hostname and /etc files), so x starts first, as compose makes it an implicit dependency.
 */
function sharedNetwork(ctx: NormalizeContext, segs: Segments, name: string, target: string, raw: Record<string, unknown>, plan: ServicePlan): void {
  if (target === "") ctx.fail(at(segs, "network_mode"), '"service:" names no service; write "service:<name>"');
  if (target === name) ctx.fail(at(segs, "network_mode"), `a service cannot share its own network namespace; name another service, or remove network_mode`);
  for (const key of networkNamespaceKeys) {
    if (raw[key] !== undefined) ctx.fail(at(segs, key), `the service shares the network namespace of ${target} (network_mode: service:${target}), which decides ${key}; set it on ${target}, or remove it here`);
  }
  plan.sharesNetworkOf = target;
  plan.networks = {};
  plan.dependsOn[target] ??= { condition: "started", required: true };
}

/** `devices`: docker's "host[:container[:access]]" strings, or the long syntax { source, target, permissions }. */
function devices(value: unknown[]): DeviceSpec[] {
  return value.map((entry) => {
    if (typeof entry !== "object" || entry === null) return String(entry);
    const long = entry as Record<string, unknown>;
    return { path: String(long.source), ...(long.target === undefined ? {} : { target: String(long.target) }), ...(long.permissions === undefined ? {} : { access: String(long.permissions) }) };
  });
}

/** The compose key of each ContainerOptions field, for errors found by normalizeOptions. */
const composeKeyOf: Record<string, string[]> = {
  name: ["container_name"],
  command: ["command"],
  entrypoint: ["entrypoint"],
  env: ["environment"],
  workdir: ["working_dir"],
  user: ["user"],
  hostname: ["hostname"],
  labels: ["labels"],
  resources: ["deploy", "resources", "limits"],
  stopSignal: ["stop_signal"],
  stopTimeoutMs: ["stop_grace_period"],
  capAdd: ["cap_add"],
  capDrop: ["cap_drop"],
  mounts: ["tmpfs"],
  ports: ["ports"],
  healthcheck: ["healthcheck"],
  extraHosts: ["extra_hosts"],
  dns: ["dns"],
  domainname: ["domainname"],
  sysctls: ["sysctls"],
  ulimits: ["ulimits"],
  shmSize: ["shm_size"],
  devices: ["devices"],
  privileged: ["privileged"],
  pid: ["pid"],
  ipc: ["ipc"],
};

/** Options whose errors name an entry of a map (`sysctls.<name>`). */
const keyedOptions = new Set(["extraHosts", "sysctls", "ulimits"]);

/** The keys this module turns into plan data; every other key of a service is reported. */
const handled = new Set([
  "image",
  "build",
  "command",
  "entrypoint",
  "environment",
  "env_file",
  "ports",
  "expose",
  "volumes",
  "tmpfs",
  "depends_on",
  "healthcheck",
  "working_dir",
  "user",
  "hostname",
  "container_name",
  "labels",
  "networks",
  "network_mode",
  "deploy",
  "restart",
  "profiles",
  "init",
  "stop_signal",
  "stop_grace_period",
  "read_only",
  "cap_add",
  "cap_drop",
  "mem_limit",
  "cpus",
  "cpu_shares",
  "pids_limit",
  "privileged",
  "devices",
  "tty",
  "stdin_open",
  "secrets",
  "configs",
  "extra_hosts",
  "dns",
  "dns_search",
  "dns_opt",
  "domainname",
  "sysctls",
  "ulimits",
  "shm_size",
  "develop",
  "logging",
  "attach",
  "annotations",
  "platform",
  "security_opt",
  "post_start",
  "pre_stop",
  "pid",
  "ipc",
]);

/**
 * Normalizes one (interpolated, schema-valid) service.
 *
 * @example
 * ```ts
 * normalizeService(ctx, "web", { image: "nginx", ports: ["8080:80"] }, { volumes: new Set(), networks: new Set() });
 * ```
 */
export function normalizeService(ctx: NormalizeContext, name: string, raw: Record<string, unknown>, declared: Declarations): ServicePlan {
  const segs = ["services", name] as const;
  const options: ContainerOptions = {};
  const plan: ServicePlan = { options, dependsOn: {}, volumes: [], networks: {}, expose: [], restart: { policy: "no" }, profiles: [], files: [] };

  for (const key of Object.keys(raw)) {
    if (handled.has(key) || key.startsWith("x-")) continue;
    ctx.unsupported(at(segs, key), unsupportedReasons[key] ?? `${key} is not supported by bento`);
  }
  if (raw.privileged !== undefined) options.privileged = toBool(ctx, at(segs, "privileged"), raw.privileged);
  if (raw.devices !== undefined) options.devices = devices(raw.devices as unknown[]);
  Object.assign(options, acceptedKeys(ctx, segs, raw));

  if (typeof raw.image === "string") {
    if (raw.image.trim() === "") ctx.fail(at(segs, "image"), 'the image is empty (an unset variable?); give a reference such as "postgres:16"');
    plan.image = raw.image;
  }
  if (raw.build !== undefined && raw.build !== null) plan.build = build(ctx, at(segs, "build"), raw.build);
  if (plan.image === undefined && plan.build === undefined) ctx.fail(segs, "has neither image nor build; give one of them");

  const cmd = command(ctx, at(segs, "command"), raw.command);
  if (cmd !== undefined) options.command = cmd;
  const entrypoint = command(ctx, at(segs, "entrypoint"), raw.entrypoint);
  if (entrypoint !== undefined) options.entrypoint = entrypoint;

  const env = raw.env_file === undefined ? {} : envFiles(ctx, at(segs, "env_file"), raw.env_file);
  Object.assign(
    env,
    toStringMap(ctx, at(segs, "environment"), raw.environment, (k) => ctx.lookup(k)),
  );
  if (Object.keys(env).length > 0) options.env = env;

  if (raw.ports !== undefined) {
    const ports: PortSpec[] = [];
    const seen = new Map<string, number>();
    (raw.ports as unknown[]).forEach((entry, i) => {
      for (const spec of parsePortEntry(ctx, at(segs, "ports", i), entry)) {
        const p = spec as { container: number; protocol: string };
        const key = `${p.container}/${p.protocol}`;
        const first = seen.get(key);
        if (first !== undefined) {
          ctx.unsupported(at(segs, "ports", i), `container port ${key} is already published by ports[${first}]; bento publishes each container port once`);
          continue;
        }
        seen.set(key, i);
        ports.push(spec);
      }
    });
    options.ports = ports;
  } else {
    // Compose publishes only what `ports` lists; EXPOSE'd ports stay unpublished.
    options.ports = [];
  }
  if (raw.expose !== undefined) plan.expose = (raw.expose as unknown[]).flatMap((e, i) => parseExposeEntry(ctx, at(segs, "expose", i), e));

  const mounts: TmpfsMount[] = [];
  const volumes: VolumeMountPlan[] = [];
  ((raw.volumes as unknown[] | undefined) ?? []).forEach((entry, i) => {
    const result = parseVolumeEntry(ctx, at(segs, "volumes", i), entry, declared.volumes);
    if ("mount" in result) volumes.push(result.mount);
    else if ("tmpfs" in result) mounts.push(result.tmpfs);
  });
  if (raw.tmpfs !== undefined) {
    const list = toStringList(raw.tmpfs);
    list.forEach((entry, i) => {
      const mount = parseTmpfsEntry(ctx, typeof raw.tmpfs === "string" ? at(segs, "tmpfs") : at(segs, "tmpfs", i), entry);
      if (mount) mounts.push(mount);
    });
  }
  if (mounts.length > 0) options.mounts = mounts;
  plan.volumes = volumes;

  plan.files = [...serviceFiles(ctx, segs, "secrets", raw.secrets, declared.secrets), ...serviceFiles(ctx, segs, "configs", raw.configs, declared.configs)];
  if (raw.depends_on !== undefined) plan.dependsOn = dependsOn(ctx, at(segs, "depends_on"), raw.depends_on);
  if (raw.healthcheck !== undefined && raw.healthcheck !== null) options.healthcheck = healthcheck(ctx, at(segs, "healthcheck"), raw.healthcheck as Record<string, unknown>);

  if (typeof raw.working_dir === "string") options.workdir = raw.working_dir;
  if (typeof raw.user === "string") options.user = raw.user;
  if (typeof raw.hostname === "string") options.hostname = raw.hostname;
  if (typeof raw.container_name === "string") options.name = raw.container_name;
  if (raw.labels !== undefined) options.labels = toStringMap(ctx, at(segs, "labels"), raw.labels, () => "");
  if (raw.init !== undefined) options.init = toBool(ctx, at(segs, "init"), raw.init);
  if (raw.read_only !== undefined) options.readonlyRootfs = toBool(ctx, at(segs, "read_only"), raw.read_only);
  if (raw.cap_add !== undefined) options.capAdd = toStringList(raw.cap_add);
  if (raw.cap_drop !== undefined) options.capDrop = toStringList(raw.cap_drop);
  if (typeof raw.stop_signal === "string") {
    const signal = raw.stop_signal.toUpperCase().startsWith("SIG") ? raw.stop_signal.toUpperCase() : `SIG${raw.stop_signal.toUpperCase()}`;
    if (signalNumber(signal) === undefined) ctx.fail(at(segs, "stop_signal"), `${JSON.stringify(raw.stop_signal)} is not a signal; use a name such as "SIGINT"`);
    options.stopSignal = signal;
  }
  if (raw.stop_grace_period !== undefined) options.stopTimeoutMs = toDurationMs(ctx, at(segs, "stop_grace_period"), raw.stop_grace_period);

  Object.assign(options, systemOptions(ctx, segs, raw));

  // Networking: network_mode host/none/slirp4netns/pasta is a ContainerOptions network; otherwise stack networks.
  if (raw.network_mode !== undefined) {
    if (raw.networks !== undefined) ctx.fail(at(segs, "network_mode"), "network_mode and networks cannot both be set; keep one");
    const mode = String(raw.network_mode);
    // slirp4netns and pasta: podman's platform values, which the spec leaves to the platform.
    if (mode === "host" || mode === "none" || mode === "slirp4netns" || mode === "pasta") options.network = mode;
    else if (mode === "bridge") plan.networks = { default: { aliases: [] } };
    else if (mode.startsWith("service:")) sharedNetwork(ctx, segs, name, mode.slice("service:".length), raw, plan);
    else if (mode.startsWith("container:")) ctx.unsupported(at(segs, "network_mode"), `network_mode ${JSON.stringify(mode)} is not supported: a stack's services can share only each other's network; use "service:<name>"`);
    else ctx.unsupported(at(segs, "network_mode"), `network_mode ${JSON.stringify(mode)} is not supported; use "host", "none", "slirp4netns", "pasta", "service:<name>", or leave it out`);
  } else {
    plan.networks = raw.networks === undefined ? { default: { aliases: [] } } : networks(ctx, at(segs, "networks"), raw.networks, declared.networks);
  }

  // Limits: the legacy service keys, then deploy.resources.limits (which compose prefers).
  const resources: ResourceOptions = {};
  if (raw.mem_limit !== undefined) resources.memory = checked(ctx, at(segs, "mem_limit"), () => parseBytes("mem_limit", raw.mem_limit as string | number));
  if (raw.cpus !== undefined) resources.cpus = toPositiveNumber(ctx, at(segs, "cpus"), raw.cpus);
  if (raw.pids_limit !== undefined) {
    const pids = toInt(ctx, at(segs, "pids_limit"), raw.pids_limit, -1);
    if (pids > 0) resources.pids = pids;
  }
  if (raw.cpu_shares !== undefined) resources.cpuShares = toInt(ctx, at(segs, "cpu_shares"), raw.cpu_shares, 2);
  const deploy = raw.deploy as Record<string, unknown> | undefined;
  if (deploy !== undefined && deploy !== null) {
    const dsegs = at(segs, "deploy");
    for (const key of Object.keys(deploy)) {
      if (key === "resources" || key === "replicas" || key.startsWith("x-")) continue;
      ctx.unsupported(at(dsegs, key), `deploy.${key} is not supported`);
    }
    if (deploy.replicas !== undefined && toInt(ctx, at(dsegs, "replicas"), deploy.replicas) !== 1) ctx.unsupported(at(dsegs, "replicas"), "bento runs one container per service; remove replicas or set it to 1");
    const res = (deploy.resources as Record<string, unknown> | undefined) ?? {};
    for (const key of Object.keys(res)) if (key !== "limits" && !key.startsWith("x-")) ctx.unsupported(at(dsegs, "resources", key), `deploy.resources.${key} is not supported (limits are)`);
    const limits = (res.limits as Record<string, unknown> | undefined) ?? {};
    const lsegs = at(dsegs, "resources", "limits");
    if (limits.memory !== undefined) resources.memory = checked(ctx, at(lsegs, "memory"), () => parseBytes("memory", limits.memory as string | number));
    if (limits.cpus !== undefined) resources.cpus = toPositiveNumber(ctx, at(lsegs, "cpus"), limits.cpus);
    if (limits.pids !== undefined) resources.pids = toInt(ctx, at(lsegs, "pids"), limits.pids, 1);
  }
  if (Object.keys(resources).length > 0) options.resources = resources;

  namespaceKeys(ctx, segs, name, raw, plan);
  if (raw.post_start !== undefined) plan.postStart = lifecycleHooks(ctx, at(segs, "post_start"), raw.post_start);
  if (raw.pre_stop !== undefined) plan.preStop = lifecycleHooks(ctx, at(segs, "pre_stop"), raw.pre_stop);
  if (typeof raw.restart === "string") plan.restart = restart(ctx, at(segs, "restart"), raw.restart);
  if (raw.profiles !== undefined) plan.profiles = toStringList(raw.profiles);

  // Every option must also be one Container accepts: check now, so a bad value names its key.
  try {
    normalizeOptions(options);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const [head] = error.option.split(/[.[]/);
    const key = composeKeyOf[head as string] ?? [];
    const reason = error.message.startsWith(`${error.option}: `) ? error.message.slice(error.option.length + 2) : error.message;
    // Map-valued keys name the entry too (sysctls.kernel.hostname -> sysctls["kernel.hostname"]).
    const index = /^\w+\[(\d+)\]/.exec(error.option);
    const entry = keyedOptions.has(head as string) && error.option.length > head!.length + 1 ? [error.option.slice(head!.length + 1)] : index ? [Number(index[1])] : [];
    ctx.fail(at(segs, ...key, ...entry), reason);
  }
  return plan;
}
