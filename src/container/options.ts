/**
 * The options of a container, as a user writes them, and their validation. Everything is checked
 * synchronously in the Container constructor, so a bad option changes nothing.
 */
import { InvalidOptionError } from "../errors.js";
import { capabilityMask, privilegedCapabilities } from "../runtime/capabilities.js";
import { checkUserSpec } from "../runtime/user.js";
import { checkSeccompOption, type SeccompOption } from "../runtime/seccomp/filter.js";
import type { CgroupLimits } from "../runtime/cgroup/driver.js";
import { toCgroupLimits, type ResourceOptions } from "../runtime/limits.js";
import { signalNumber } from "../runtime/wait-status.js";
import { parsePorts, type PortSpec, type PublishedPort } from "../network/port-spec.js";
import { healthcheckConfig, type HealthcheckConfig } from "../image/config.js";
import { healthcheckStepOf, healthcheckTestOf, type HealthcheckOptions } from "../image/image-steps.js";
import { isLogConsumer, type LogConsumer } from "../wait/log-consumer.js";
import type { WaitStrategy } from "../wait/wait-strategy.js";
import { parseMounts, type MountSpec, type NormalizedMount } from "./mounts.js";
import { normalizeFiles, type ContainerFile, type NormalizedFile } from "./start-files.js";
import type { SystemSettings } from "../runtime/container-plan.js";
import { normalizeSystemOptions, type DnsOptions, type UlimitSpec } from "./system-options.js";
import { Network } from "../network/network.js";
import type { EgressHelper } from "../runtime/egress-helpers.js";
import { egressOption } from "./egress-option.js";
import { ContainerView } from "./container-view.js";
import { normalizeDevices, type DeviceSpec } from "./device-options.js";
import { ipcNamespaceOf, pidNamespaceOf, type ContainerNamespace, type NamespaceSource } from "./namespace-options.js";
import type { DeviceNode } from "../runtime/host-devices.js";
import { interactiveOption, terminalOption, type ConsoleSize, type TerminalOptions } from "./terminal-options.js";

/**
 * A container's healthcheck, merged over the image's HEALTHCHECK: each field left out (and a test
 * left out) comes from the image, as with `docker run --health-*`. `test: "NONE"` disables it.
 *
 * @example
 * ```ts
 * const healthcheck: ContainerHealthcheck = { test: ["CMD", "pg_isready"], intervalMs: 250, retries: 40 };
 * ```
 */
export interface ContainerHealthcheck extends HealthcheckOptions {
  /** A shell command string (run with the image's SHELL, else /bin/sh -c), Docker's test array, or "NONE". */
  test?: string | string[];
}

/**
 * Options of a container, in Docker's terms.
 *
 * @example
 * ```ts
 * new Container(image, { command: ["sleep", "60"], env: { MODE: "test" }, resources: { memory: "64m" } });
 * ```
 */
export interface ContainerOptions extends TerminalOptions {
  /** Unique name; default a random one. */
  name?: string;
  /** Replaces the image's CMD. */
  command?: string[];
  /** Replaces the image's ENTRYPOINT (and drops its CMD unless `command` is given). */
  entrypoint?: string[];
  /** Environment, added to (and overriding) the image's. */
  env?: Record<string, string>;
  /** Working directory (default: the image's WORKDIR, else "/"); created when missing. */
  workdir?: string;
  /** "name", "uid", "name:group" or "uid:gid", resolved in the image's /etc/passwd and /etc/group. */
  user?: string;
  /** The container's hostname (default: the first 12 characters of its id). */
  hostname?: string;
  /** Labels, recorded with the container. */
  labels?: Record<string, string>;
  /** Resource limits (cgroups). */
  resources?: ResourceOptions;
  /** true (default): bento's init is PID 1 and reaps zombies; false: the command is PID 1. */
  init?: boolean;
  /** Mount the root filesystem read-only. */
  readonlyRootfs?: boolean;
  /** The signal `stop()` sends first (default: the image's STOPSIGNAL, else SIGTERM). */
  stopSignal?: string;
  /** How long `stop()` waits before SIGKILL (default 10 000 ms, as Docker). */
  stopTimeoutMs?: number;
  /**
   * "none" (default: its own network namespace with only lo), "host" (shares the host's), a
   * {@link Network}: its own namespace plus an address on the network, where the other members
   * reach it by its name and `aliases`, or `{ container: running }`: the network namespace of a
   * running container (`docker run --network container:x`), so both share localhost, and its
   * hostname, /etc/hosts and resolv.conf. `"slirp4netns"` or `"pasta"` (podman's `--network`;
   * Debian packages `slirp4netns`, `passt`): its own namespace with a route out through that helper,
   * tap0 10.0.2.100/24 and its DNS forwarder 10.0.2.3; the host's loopback stays out of reach.
   * The helper is a child of this process, so such a container cannot `detach`.
   */
  network?: "none" | "host" | EgressHelper | Network | ContainerNamespace;
  /** More names the container answers to on its network (as compose's network aliases). */
  aliases?: string[];
  /** Extra capabilities beyond Docker's default set (grants privileges: use with care). */
  capAdd?: string[];
  /** Capabilities to remove from the default set ("ALL" for every one). */
  capDrop?: string[];
  /** Set no_new_privs (default true: setuid binaries cannot gain privileges). */
  noNewPrivileges?: boolean;
  /**
   * The seccomp filter: `"default"` (an allowlist equivalent to Docker's: keyctl, mount, unshare,
   * bpf, kexec and the like fail with EPERM), a Docker-format profile object
   * (`JSON.parse(readFileSync("profile.json", "utf8"))`), or `"unconfined"`, which grants every
   * system call the capabilities allow: use with care.
   */
  seccomp?: SeccompOption;
  /**
   * Volumes, bind mounts and tmpfs mounts: `{ volume: "pgdata", target: "/data" }`,
   * `{ bind: "./conf", target: "/etc/app", readonly: true }`, `{ tmpfs: "/tmp" }`, or docker -v
   * strings such as `"pgdata:/data"` and `"./conf:/etc/app:ro"`. Mount targets are resolved
   * inside the container's root filesystem.
   */
  mounts?: MountSpec[];
  /**
   * Ports to publish on 127.0.0.1 and ::1 (same host port for both): `8080` picks a free host
   * port, `{ container: 5432, host: 15432 }` pins one. Default: the image's EXPOSE'd ports (as
   * `docker run -P`); `[]` publishes none.
   */
  ports?: PortSpec[];
  /**
   * How `start()` tells that the container is ready (see {@link Wait}). Default: its healthcheck
   * when it has one (`Wait.forHealthy()`), else none: `start()` resolves once the command runs.
   */
  wait?: WaitStrategy;
  /**
   * One deadline for the whole start, every phase included (build, setup, wait), in ms; default
   * 60 000. `BENTO_TIMEOUT_SCALE` multiplies it. A failed start removes the container.
   */
  startupTimeoutMs?: number;
  /** A healthcheck bento runs with exec (merged over the image's HEALTHCHECK); state in `inspect()`. */
  healthcheck?: ContainerHealthcheck;
  /** Receives each line of output as it is written: one function, or one per stream. */
  onLog?: LogConsumer;
  /**
   * Files and directories written into the container before its command starts (host paths or
   * content), resolved inside its root filesystem; the image needs no `tar` for them.
   */
  files?: ContainerFile[];
  /**
   * Extra /etc/hosts entries, `{ "api.test": "10.0.0.5" }`. `"host-gateway"` (the test process's
   * host) is 127.0.0.1 and needs `network: "host"`: other containers have no route to the host.
   */
  extraHosts?: Record<string, string>;
  /** resolv.conf's nameservers, search domains and options. */
  dns?: DnsOptions;
  /** The NIS domain name (UTS namespace), as `docker run --domainname`. */
  domainname?: string;
  /** Sysctls of the container's own namespaces (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), `{ "net.core.somaxconn": 1024 }`. */
  sysctls?: Record<string, string | number>;
  /** Resource limits (setrlimit), `{ nofile: { soft: 1024, hard: 4096 } }`; raising a hard limit is a privilege. */
  ulimits?: Record<string, UlimitSpec>;
  /** The size of /dev/shm (default 64 MiB): bytes, or "256m". */
  shmSize?: string | number;
  /**
   * Let the container outlive the process that starts it (as `docker run -d`). Its supervising
   * helper keeps writing its log and publishing its ports, and records how it exited; this
   * process's exit leaves it running, and no sweep touches it while its helper lives. Any process
   * finds it again with `Container.attach(nameOrId)` to exec, read logs, stop, wait and remove it.
   * Default false: the container is bound to this process (removed when it ends, swept after a crash).
   * Not with a {@link Network} yet (the network ends with this process).
   *
   * @example
   * ```ts
   * await new Container(image, { name: "db", detach: true, ports: [5432] }).start();
   * // later, from another process:
   * const db = await Container.attach("db");
   * await db.stop();
   * await db.remove();
   * ```
   */
  detach?: boolean;
  /**
   * Host devices the container may use, as `docker run --device`: the node appears at its target
   * and the device policy allows it (`"/dev/fuse"`, `"/dev/net/tun:/dev/tun:rwm"`).
   */
  devices?: DeviceSpec[];
  /**
   * As `docker run --privileged`: every capability, no seccomp filter (unless `seccomp` is given),
   * every host device visible and usable, and /proc and /sys writable with nothing masked. The
   * container can then change the host: only for fixtures that need it.
   */
  privileged?: boolean;
  /**
   * The PID namespace: the container's own (default), the host's (`"host"`: it sees every process
   * of this machine), or a running container's (`{ container: running }`), as `docker run --pid`.
   */
  pid?: "host" | ContainerNamespace;
  /**
   * The IPC namespace and /dev/shm: its own (default; `"private"` and `"shareable"` say the same),
   * the host's (`"host"`), or a running container's (`{ container: running }`), as `docker run --ipc`.
   */
  ipc?: "private" | "shareable" | "host" | ContainerNamespace;
}

/** Validated options with the derived values the runtime needs. */
export interface NormalizedOptions {
  name?: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  workdir?: string;
  user?: string;
  hostname?: string;
  labels: Record<string, string>;
  limits: CgroupLimits;
  init: boolean;
  readonlyRootfs: boolean;
  stopSignal?: string;
  stopTimeoutMs: number;
  network: "none" | "host";
  /** The network to join, when `network` was a Network. */
  joins?: { network: Network; aliases: string[] };
  /** The container whose network namespace this one enters, when `network` was `{ container }`. */
  sharesNetworkOf?: ContainerView;
  capabilities: bigint;
  noNewPrivileges: boolean;
  seccomp: SeccompOption;
  /** The container outlives this process (see ContainerOptions.detach). */
  detach: boolean;
  /** A terminal of this initial size (the `tty` option). */
  tty?: ConsoleSize;
  /** Standard input stays open for `running.stdin`. */
  interactive: boolean;
  /** With network "none": outbound access through this helper (the network option, or a build RUN step's). */
  egress?: EgressHelper;
  mounts: NormalizedMount[];
  /** undefined: publish the image's exposed ports. */
  ports?: PublishedPort[];
  wait?: WaitStrategy;
  startupTimeoutMs: number;
  /** Docker's form; an empty Test takes the image's. */
  healthcheck?: HealthcheckConfig;
  onLog?: LogConsumer;
  files: NormalizedFile[];
  system: SystemSettings;
  /** Host devices to recreate and allow (the `devices` option). */
  devices: DeviceNode[];
  privileged: boolean;
  /** The PID namespace when not its own. */
  pidNamespace?: NamespaceSource;
  /** The IPC namespace (and /dev/shm) when not its own. */
  ipcNamespace?: NamespaceSource;
}

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const hostnamePattern = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function stringArray(option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new InvalidOptionError(option, 'must be an array of strings (exec form), e.g. ["sh", "-c", "echo hi"]');
  }
  return [...value];
}

function absolutePath(option: string, value: string): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.split("/").includes("..")) {
    throw new InvalidOptionError(option, `"${value}" must be an absolute path inside the container without "..", e.g. "/app"`);
  }
  return value.replace(/\/+$/, "") || "/";
}

function detachOption(detach: unknown, joins: Network | undefined): boolean {
  if (detach === undefined) return false;
  if (typeof detach !== "boolean") throw new InvalidOptionError("detach", `${JSON.stringify(detach)} must be true or false`);
  if (detach && joins && !joins.keepsDetachedMembers) {
    throw new InvalidOptionError("detach", 'a container on a Network cannot outlive this process yet (the network ends with it); use network "none" or "host", or leave detach out');
  }
  return detach;
}

/**
 * The container whose network namespace `network: { container }` enters. What belongs to a
 * network namespace comes from that container, so options that would set it here are refused,
 * as Docker refuses them with `--network container:x`.
 */
function sharedNetworkOf(options: ContainerOptions): ContainerView | undefined {
  const network = options.network as unknown;
  if (typeof network !== "object" || network === null || network instanceof Network || !("container" in network)) return undefined;
  const target = (network as { container: unknown }).container;
  if (!(target instanceof ContainerView)) throw new InvalidOptionError("network.container", "must be a started container (what start() returned)");
  const own: [keyof ContainerOptions, string][] = [
    ["hostname", "the hostname"],
    ["extraHosts", "/etc/hosts"],
    ["dns", "resolv.conf"],
    ["aliases", "network aliases"],
  ];
  for (const [option, what] of own) {
    if (options[option] !== undefined) throw new InvalidOptionError(option, `a container in another container's network namespace takes ${what} from it (${target.name}); drop ${option}, or set it on ${target.name}`);
  }
  if (options.ports !== undefined && options.ports.length > 0) throw new InvalidOptionError("ports", `a container in another container's network namespace publishes no ports of its own; publish them on ${target.name}`);
  return target;
}

/** Validates options; throws InvalidOptionError naming the option and the fix. */
export function normalizeOptions(options: ContainerOptions = {}): NormalizedOptions {
  if (options.name !== undefined && !namePattern.test(options.name)) {
    throw new InvalidOptionError("name", `"${options.name}" may only hold letters, digits, "_", "." and "-", and must start with a letter or digit`);
  }
  if (options.hostname !== undefined && (!hostnamePattern.test(options.hostname) || options.hostname.length > 64)) {
    throw new InvalidOptionError("hostname", `"${options.hostname}" is not a valid hostname (letters, digits, "-" and ".", at most 64 characters)`);
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (!k || k.includes("=") || k.includes("\0")) throw new InvalidOptionError(`env.${k}`, 'a variable name may not be empty or contain "="');
    if (typeof v !== "string") throw new InvalidOptionError(`env.${k}`, `the value must be a string, not ${typeof v}`);
    // execve(2) takes C strings: a NUL would silently cut the value short.
    if (v.includes("\0")) throw new InvalidOptionError(`env.${k}`, "the value contains a NUL character, which an environment cannot hold; remove it");
    env[k] = v;
  }
  if (options.stopSignal !== undefined && signalNumber(options.stopSignal) === undefined) {
    throw new InvalidOptionError("stopSignal", `"${options.stopSignal}" is not a signal; use a name such as "SIGINT"`);
  }
  const startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
  if (typeof startupTimeoutMs !== "number" || !Number.isFinite(startupTimeoutMs) || startupTimeoutMs <= 0) {
    throw new InvalidOptionError("startupTimeoutMs", `${String(startupTimeoutMs)} must be a positive number of milliseconds`);
  }
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  if (!Number.isFinite(stopTimeoutMs) || stopTimeoutMs < 0) throw new InvalidOptionError("stopTimeoutMs", `${stopTimeoutMs} must be 0 or more milliseconds`);
  const joins = options.network instanceof Network ? options.network : undefined;
  const sharesNetworkOf = sharedNetworkOf(options);
  const egress = egressOption(options.network, options.detach);
  if (options.network !== undefined && options.network !== "none" && options.network !== "host" && !egress && !joins && !sharesNetworkOf) {
    throw new InvalidOptionError("network", `${JSON.stringify(options.network)} is not a network; use "none", "host", "slirp4netns", "pasta", a Network or { container: runningContainer }`);
  }
  if (options.aliases !== undefined) {
    if (!joins) throw new InvalidOptionError("aliases", "aliases need a network: pass network: someNetwork as well");
    for (const alias of options.aliases) {
      if (typeof alias !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(alias)) throw new InvalidOptionError("aliases", `${JSON.stringify(alias)} is not a host name`);
    }
  }
  if (options.privileged !== undefined && typeof options.privileged !== "boolean") throw new InvalidOptionError("privileged", `${JSON.stringify(options.privileged)} must be true or false`);
  const privileged = options.privileged ?? false;
  const normalized: NormalizedOptions = {
    env,
    labels: { ...options.labels },
    limits: toCgroupLimits(options.resources),
    init: options.init ?? true,
    readonlyRootfs: options.readonlyRootfs ?? false,
    stopTimeoutMs,
    startupTimeoutMs,
    network: options.network === "host" ? "host" : "none",
    // Docker's --privileged grants every capability whatever cap_add and cap_drop say.
    capabilities: privileged ? privilegedCapabilities() : capabilityMask(options.capAdd, options.capDrop),
    noNewPrivileges: options.noNewPrivileges ?? true,
    seccomp: options.seccomp === undefined ? (privileged ? "unconfined" : "default") : checkSeccompOption(options.seccomp),
    detach: detachOption(options.detach, joins),
    interactive: interactiveOption(options.interactive),
    devices: normalizeDevices(options.devices),
    privileged,
    mounts: parseMounts(options.mounts),
    files: [],
    system: normalizeSystemOptions(options, options.network === "host" ? "host" : joins ? "joined" : sharesNetworkOf ? "shared" : "none"),
  };
  normalized.files = normalizeFiles(options.files, normalized.mounts);
  const tty = terminalOption(options.tty, options.consoleSize);
  if (tty !== undefined) normalized.tty = tty;
  const command = stringArray("command", options.command);
  const entrypoint = stringArray("entrypoint", options.entrypoint);
  if (options.name !== undefined) normalized.name = options.name;
  if (command !== undefined) normalized.command = command;
  if (entrypoint !== undefined) normalized.entrypoint = entrypoint;
  if (options.workdir !== undefined) normalized.workdir = absolutePath("workdir", options.workdir);
  if (options.user !== undefined) {
    if (typeof options.user !== "string" || options.user === "" || options.user.split(":").length > 2) {
      throw new InvalidOptionError("user", `"${String(options.user)}" must be "name", "uid", "name:group" or "uid:gid"`);
    }
    checkUserSpec("user", options.user);
    normalized.user = options.user;
  }
  if (options.hostname !== undefined) normalized.hostname = options.hostname;
  if (options.ports !== undefined) normalized.ports = parsePorts(options.ports);
  if (joins) normalized.joins = { network: joins, aliases: [...(options.aliases ?? [])] };
  if (sharesNetworkOf) normalized.sharesNetworkOf = sharesNetworkOf;
  if (egress) normalized.egress = egress;
  const pidNamespace = pidNamespaceOf(options);
  if (pidNamespace) normalized.pidNamespace = pidNamespace;
  const ipcNamespace = ipcNamespaceOf(options);
  if (ipcNamespace) normalized.ipcNamespace = ipcNamespace;
  if (options.stopSignal !== undefined) normalized.stopSignal = options.stopSignal;
  if (options.wait !== undefined) {
    if (typeof options.wait !== "object" || options.wait === null || typeof options.wait.waitUntilReady !== "function") {
      throw new InvalidOptionError("wait", "expected a wait strategy, e.g. Wait.forPort(8080)");
    }
    normalized.wait = options.wait;
  }
  if (options.healthcheck !== undefined) {
    if (typeof options.healthcheck !== "object" || options.healthcheck === null) {
      throw new InvalidOptionError("healthcheck", "expected { test?, intervalMs?, timeoutMs?, startPeriodMs?, startIntervalMs?, retries? }");
    }
    const { test, ...timing } = options.healthcheck;
    // No test: the image's, with these timings over its own.
    const dockerTest = test === undefined ? [] : healthcheckTestOf(test);
    normalized.healthcheck = healthcheckConfig(dockerTest, healthcheckStepOf(dockerTest.length ? dockerTest : ["CMD", "true"], timing));
  }
  if (options.onLog !== undefined) {
    if (!isLogConsumer(options.onLog)) throw new InvalidOptionError("onLog", "expected a function (line) => void, or { stdout?, stderr? } functions");
    normalized.onLog = options.onLog;
  }
  return normalized;
}
