/**
 * The mutable core behind the Container typestates: one container's identity, directories,
 * state lock, current shim and last exit. RunningContainer and StoppedContainer are views of it.
 * Over 400 lines: one class whose methods share the state lock and the shim; what each method
 * does beyond that (exec, copy, logs, mounts, records, ports) already lives in its own module.
 */
import { cryptoModule } from "../deps.js";
import { recordedMounts, writeContainerRecord, writePortsRecord } from "./container-record.js";
import { closeSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname as hostHostname } from "node:os";
import { join } from "node:path";
import { config } from "../config.js";
import { BentoError, ContainerStateError, StartupError, SystemCallError } from "../errors.js";
import { DEFAULT_PATH } from "../image/config.js";
import { containerArgv } from "../image/container-argv.js";
import { cgroupDriver } from "../runtime/cgroup/detect.js";
import type { CgroupDriver, CgroupStats } from "../runtime/cgroup/driver.js";
import { killDescendants } from "../runtime/cgroup/undelegated.js";
import { CLONE_NEWIPC, CLONE_NEWPID, compileContainerPlan, type ProcessSpec, type RuntimeSpec } from "../runtime/container-plan.js";
import { claimName, releaseName } from "../runtime/names.js";
import { RunningShim } from "../runtime/shim.js";
import { claimState, cleanUpSync, exitRecordFile, recordInit, releaseState, sweepOrphans, sweepOwnedBy, type StateLock } from "../runtime/state.js";
import { writeDetachedRecord } from "./detached-record.js";
import { discard, emptyTrash } from "../runtime/trash.js";
import { resolveUser } from "../runtime/user.js";
import { hostDevices } from "../runtime/host-devices.js";
import { egressNameserver, startEgress, type Egress } from "../network/egress.js";
import { seccompProgram } from "../runtime/seccomp/filter.js";
import { overlayMount } from "../runtime/overlay-mode.js";
import { isRootless, onlyRootMapped, userNamespace } from "../runtime/user-namespace.js";
import { decodeWaitStatus, type ExitStatus, signalNumber } from "../runtime/wait-status.js";
import { onExitSweep, track, untrack } from "../runtime/teardown.js";
import type { ImageSource } from "./image-source.js";
import { buildEngine, type BuildResult, type CommitOptions } from "../image/build-engine.js";
import { copyFromContainer, copyToContainer, type CopyTarget } from "./copy.js";
import { envList, runExec, type ExecOptions, type ExecResult, type RawExecResult } from "./exec.js";
export type { ExecOptions, ExecResult } from "./exec.js";
import { followLogLines, formatLines, type LogLine, type LogOptions, readLogLines } from "../runtime/logs.js";
import type { NormalizedOptions } from "./options.js";
import type { NamespaceSource } from "./namespace-options.js";
import type { WaitStrategy } from "../wait/wait-strategy.js";
import { removeAnonymousVolumes, resolveMounts, writeMountedFiles } from "./volume-mounts.js";
import { extraHostLines, resolvConfWith } from "./system-options.js";
import { volumeDir } from "../volume/volume-store.js";
import { PortProxy, type BoundPort } from "../network/port-proxy.js";
import { parsePorts, type PublishedPort } from "../network/port-spec.js";
import { withTerm, type ConsoleSize } from "./terminal-options.js";
import { attachSocketName } from "./terminal-attach.js";
import type { Readable, Writable } from "node:stream";

type Status = "created" | "running" | "exited" | "removed";

let swept = false;

/** True when another process can start the container again from its spec alone (see DetachedRecord.spec). */
function startableElsewhere(options: NormalizedOptions): boolean {
  const ownOrHost = (n: NormalizedOptions["pidNamespace"]) => n === undefined || n === "host";
  return options.joins === undefined && options.sharesNetworkOf === undefined && options.egress === undefined && ownOrHost(options.pidNamespace) && ownOrHost(options.ipcNamespace);
}

function resolvConf(): string {
  try {
    // 127.x nameservers are unreachable from another network namespace (RUNTIME-NOTES section 6).
    return readFileSync("/etc/resolv.conf", "utf8")
      .split("\n")
      .filter((l) => !/^\s*nameserver\s+127\./.test(l))
      .join("\n");
  } catch {
    return "";
  }
}

export class ContainerInstance {
  status: Status = "created";
  /** The wait its first start used; later starts (restart) wait the same way. */
  startupWait: WaitStrategy | undefined;
  lastExit: ExitStatus | undefined;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  private shim: RunningShim | undefined;
  /** The last run's terminal output (with `tty`), kept after the run ends so it can be read to its end. */
  private runTerminal: Readable | null = null;
  private proxy: PortProxy | undefined;
  /** The last run's cgroup removal, which finishes after its exit is reported. */
  private cleanedUp: Promise<void> = Promise.resolve();
  /**
   * Execs not yet ended (a healthcheck probe, say), each with the abort that kills its helper:
   * remove() kills what outlived the container and waits for it, so no helper outlives remove().
   */
  private readonly execsRunning = new Map<Promise<unknown>, AbortController>();
  private exitPromise: Promise<ExitStatus> | undefined;
  private readonly driver: CgroupDriver;
  private readonly lock: StateLock;
  private readonly runtimeDir: string;

  private constructor(
    readonly id: string,
    readonly name: string,
    readonly options: NormalizedOptions,
    readonly source: ImageSource,
    readonly spec: RuntimeSpec,
    readonly createdAt: Date,
    private readonly anonymousVolumes: readonly string[],
  ) {
    const cfg = config();
    this.runtimeDir = cfg.runtimeDir;
    this.driver = cgroupDriver();
    const containerDir = spec.containerDir;
    claimName(this.runtimeDir, name, id);
    try {
      this.lock = claimState(join(this.runtimeDir, "containers"), {
        id,
        name,
        ownerPid: process.pid,
        cgroupPaths: this.driver.paths(id),
        containerDir,
        removeDirs: anonymousVolumes.map(volumeDir),
        ...(options.detach ? { detached: true } : {}),
      });
    } catch (error) {
      releaseName(this.runtimeDir, name, id);
      throw error;
    }
    if (options.detach) {
      writeDetachedRecord(this.lock.dir, {
        process: spec.process,
        network: spec.network,
        lowerDirs: spec.lowerDirs,
        stopSignal: this.stopSignal(),
        stopTimeoutMs: options.stopTimeoutMs,
        ...(startableElsewhere(options) ? { spec } : {}),
      });
    }
  }

  /** Creates the container's directories and records; nothing runs yet. */
  static async create(options: NormalizedOptions, source: ImageSource): Promise<ContainerInstance> {
    const cfg = config();
    if (!swept) {
      swept = true;
      const states = join(cfg.runtimeDir, "containers");
      sweepOrphans(states);
      emptyTrash(cfg.home);
      onExitSweep(() => sweepOwnedBy(states, process.pid));
    }
    const id = cryptoModule().randomBytes(32).toString("hex");
    // overlay needs at least one lower directory: a scratch image gets an empty one.
    if (source.lowerDirs.length === 0) {
      const empty = join(cfg.home, "empty-layer");
      mkdirSync(empty, { recursive: true, mode: 0o755 });
      source = { ...source, lowerDirs: [empty] };
    }
    const name = options.name ?? `bento_${id.slice(0, 12)}`;
    const containerDir = join(cfg.home, "containers", id);
    const image = source.config;
    // A container in another's network namespace takes its name and /etc files, as Docker's container:x.
    const sharedWith = options.sharesNetworkOf?.core;
    const hostname = sharedWith?.spec.hostname ?? options.hostname ?? (options.network === "host" ? hostHostname() : id.slice(0, 12));
    const user = resolveUser(options.user ?? (image.User || undefined), source.lowerDirs);
    const baseEnv = image.Env.some((e) => e.startsWith("PATH=")) ? image.Env : [`PATH=${DEFAULT_PATH}`, ...image.Env];
    const env = withTerm(envList(baseEnv, { HOSTNAME: hostname, ...(baseEnv.some((e) => e.startsWith("HOME=")) ? {} : { HOME: user.home }), ...options.env }), options.tty);
    const payload: ProcessSpec = {
      argv: containerArgv(image, { ...(options.entrypoint ? { entrypoint: options.entrypoint } : {}), ...(options.command ? { command: options.command } : {}) }),
      env,
      cwd: options.workdir ?? (image.WorkingDir || "/"),
      uid: user.uid,
      gid: user.gid,
      groups: user.groups,
      capabilities: options.capabilities,
      noNewPrivileges: options.noNewPrivileges,
      seccomp: seccompProgram(options.seccomp, options.capabilities),
    };
    if (onlyRootMapped("container user", user)) {
      payload.setGroups = false;
      payload.groups = [];
    }
    const volumes = await resolveMounts(options.mounts, Object.keys(image.Volumes ?? {}), source.lowerDirs, containerDir);
    const spec: RuntimeSpec = {
      id,
      hostname,
      lowerDirs: source.lowerDirs,
      containerDir,
      logFile: join(containerDir, "container.log"),
      readonlyRootfs: options.readonlyRootfs,
      init: options.init,
      network: options.network,
      ...(sharedWith ? { etcDir: sharedWith.spec.containerDir } : {}),
      process: payload,
      mounts: volumes.mounts,
      system: options.system,
      devices: options.privileged ? [...hostDevices().filter((d) => !options.devices.some((own) => own.target === d.target)), ...options.devices] : options.devices,
      privileged: options.privileged,
      ...(options.tty ? { tty: options.tty } : {}),
      ...(options.interactive ? { stdin: true } : {}),
    };
    mkdirSync(containerDir, { recursive: true, mode: 0o700 });
    try {
      // The overlay's root directory takes the upper dir's mode: 0700 would lock non-root users out of "/".
      for (const sub of ["upper", "work", "merged"]) mkdirSync(join(containerDir, sub), { mode: 0o755 });
      const hosts = options.network === "host" ? readFileSync("/etc/hosts", "utf8") : `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
      writeFileSync(join(containerDir, "hosts"), hosts + extraHostLines(options.system.extraHosts));
      writeFileSync(join(containerDir, "hostname"), `${hostname}\n`);
      writeFileSync(join(containerDir, "resolv.conf"), resolvConfWith(options.egress ? `nameserver ${egressNameserver}\n` : resolvConf(), options.system.dns));
      await writeMountedFiles(containerDir, volumes.files, user);
      writeContainerRecord(containerDir, {
        id,
        name,
        imageId: source.imageId ?? null,
        labels: options.labels,
        volumes: volumes.volumes,
        argv: payload.argv,
        env,
        cwd: payload.cwd,
        user: options.user ?? image.User ?? "",
        hostname,
        networkMode: options.joins?.network.name ?? (sharedWith ? `container:${sharedWith.name}` : (options.egress ?? options.network)),
        limits: options.limits,
        readonlyRootfs: options.readonlyRootfs,
        init: options.init,
        mounts: recordedMounts(options.mounts),
        exposedPorts: Object.keys(image.ExposedPorts ?? {}),
        ...((options.stopSignal ?? image.StopSignal) ? { stopSignal: options.stopSignal ?? image.StopSignal } : {}),
      });
      return new ContainerInstance(id, name, options, source, spec, new Date(), volumes.anonymous);
    } catch (error) {
      // A container that could not be made leaves nothing (a file mount refused for its owner, say);
      // through the trash, which deletes other container users' files from inside the user namespace.
      discard(config().home, containerDir, id);
      removeAnonymousVolumes(volumes.anonymous);
      throw error;
    }
  }

  /** Starts (or restarts) the container's shim; on failure the container stays as it was. */
  async launch(): Promise<void> {
    this.assertNot("removed", "start");
    if (this.status === "running") throw new ContainerStateError(`container ${this.name} is already running`);
    const cfg = config();
    await this.cleanedUp;
    const joins = this.options.joins;
    const oomCounter = this.driver.oomCounter(this.id);
    const overlay = overlayMount();
    const userns = isRootless() ? await userNamespace() : undefined;
    const detach = this.options.detach;
    // A restart of a detached container: the last run's recorded exit no longer says how it stands.
    if (detach) rmSync(exitRecordFile(this.lock.dir), { force: true });
    const netnsOf = this.sharedNetworkPid();
    const pidNamespace = this.namespacePid(this.options.pidNamespace, "PID");
    const ipcNamespace = this.namespacePid(this.options.ipcNamespace, "IPC");
    const plan = compileContainerPlan(
      {
        ...this.spec,
        overlay,
        ...(detach ? { detach: { exitFile: exitRecordFile(this.lock.dir) } } : {}),
        ...(detach && this.options.tty ? { attachSocket: attachSocketName(this.id) } : {}),
        ...(netnsOf === undefined ? {} : { netnsOf }),
        ...(pidNamespace === undefined ? {} : { pidNamespace }),
        ...(ipcNamespace === undefined ? {} : { ipcNamespace }),
        hold: joins !== undefined || this.options.egress !== undefined,
        ...(userns ? { userNamespace: { holderPid: userns.holderPid, singleId: userns.mapping.kind === "single" } } : {}),
      },
      this.driver.setup(this.id, this.options.limits),
      {
        ...(oomCounter ? { oomCounter } : {}),
        removeDirs: this.driver.paths(this.id),
      },
    );
    let egress: Egress | undefined;
    const attach = joins
      ? (initPid: number) =>
          joins.network
            .attach({
              id: this.id,
              initPid,
              names: [this.name, this.spec.hostname, ...joins.aliases],
              hostsFile: join(this.spec.containerDir, "hosts"),
              extraHosts: extraHostLines(this.options.system.extraHosts),
            })
            .then(() => undefined)
      : this.options.egress
        ? async (initPid: number) => {
            egress = await startEgress(this.options.egress!, initPid, this.spec.containerDir, `container ${this.name}`);
          }
        : undefined;
    // A detached container outlives this process: its exit hooks must leave it alone.
    if (!detach) track(this);
    let shim: RunningShim;
    try {
      // A detached container's streams would outlive nobody's reading: it gets none.
      const streams = { stdin: this.options.interactive && !detach, terminal: this.options.tty !== undefined && !detach };
      shim = await RunningShim.start(`start ${this.name}`, this.id, plan, this.driver, this.lock.fd, cfg.debug.has("runtime") || cfg.debug.has("*"), streams, attach);
    } catch (error) {
      joins?.network.detach(this.id);
      await egress?.stop();
      const logTail = (await this.logLines({ tail: 50 })).map((l) => l.text.replace(/\n$/, ""));
      const phase = error instanceof SystemCallError && error.op === "exec the command" ? "exec" : "setup";
      throw new StartupError(this.name, { phase, logTail }, { cause: error });
    }
    this.shim = shim;
    this.runTerminal = shim.terminalOutput;
    this.cleanedUp = shim.cleanedUp;
    // Without a cgroup, other processes (bento ps) learn that it runs from this record; they
    // signal and exec into a detached container through it too.
    const withoutCgroup = this.driver.paths(this.id).length === 0;
    const recordsInit = withoutCgroup || detach;
    if (recordsInit) recordInit(this.lock, shim.initPid);
    const publishUdp = (hostPort: number, containerPort: number, hostIp?: string) => shim.publishUdp(hostPort, containerPort, hostIp);
    // This process's proxy ends with it: the shim of a detached container publishes TCP too.
    const publishTcp = detach ? (hostPort: number, containerPort: number, hostIp?: string) => shim.publishTcp(hostPort, containerPort, hostIp) : undefined;
    try {
      if (this.proxy === undefined) this.proxy = await PortProxy.open(this.publishedPorts(), () => this.shim?.portChannel ?? null, publishUdp, publishTcp);
      else await this.proxy.reopen(publishUdp, publishTcp);
      writePortsRecord(this.spec.containerDir, this.proxy.bound);
    } catch (error) {
      shim.signal(9);
      await shim.exited;
      await egress?.stop();
      throw error;
    }
    this.status = "running";
    this.startedAt = new Date();
    this.lastExit = undefined;
    this.exitPromise = shim.exited.then((exit) => {
      if (recordsInit) recordInit(this.lock, undefined);
      joins?.network.detach(this.id);
      const helperExited = egress?.stop();
      this.proxy?.closeListeners();
      this.lastExit = exit;
      this.finishedAt = new Date();
      if (this.status === "running") this.status = "exited";
      this.shim = undefined;
      // Whoever waits for the exit (stop, remove) finds the helper gone too.
      return helperExited ? helperExited.then(() => exit) : exit;
    });
  }

  /** The init pid of the container whose network namespace this one enters; it must be running. */
  private sharedNetworkPid(): number | undefined {
    const target = this.options.sharesNetworkOf?.core;
    if (target === undefined) return undefined;
    if (target.pid === undefined) throw new ContainerStateError(`container ${this.name} shares the network namespace of ${target.name}, which is not running; start ${target.name} first`);
    return target.pid;
  }

  /** A namespace option as the plan takes it: "host", or the init pid of the running container that owns it. */
  private namespacePid(source: NamespaceSource | undefined, what: string): "host" | number | undefined {
    if (source === undefined || source === "host") return source;
    const target = source.core;
    if (target.pid === undefined) throw new ContainerStateError(`container ${this.name} shares the ${what} namespace of ${target.name}, which is not running; start ${target.name} first`);
    return target.pid;
  }

  /** The ports to publish: the option, else the image's EXPOSE'd ports (as `docker run -P`). */
  private publishedPorts(): PublishedPort[] {
    if (this.options.ports !== undefined) return this.options.ports;
    // Ports of a shared network namespace are the other container's to publish.
    if (this.options.sharesNetworkOf !== undefined) return [];
    return parsePorts(Object.keys(this.source.config.ExposedPorts ?? {}));
  }

  /** The host port a published container port is reachable on. */
  hostPort(port: number, protocol: "tcp" | "udp" = "tcp"): number | undefined {
    return this.proxy?.hostPort(port, protocol);
  }

  /** Every published port with its host port. */
  get ports(): BoundPort[] {
    return this.proxy?.bound ?? [];
  }

  /**
   * The current run's end, without keeping Node alive (for watchers such as health monitors);
   * undefined before the first start.
   */
  get exited(): Promise<ExitStatus> | undefined {
    return this.exitPromise;
  }

  /** Resolves when the current run ends (at once if it already did). */
  async wait(): Promise<ExitStatus> {
    this.assertNot("removed", "wait for");
    if (this.exitPromise) return this.shim ? this.shim.keepAlive(this.exitPromise) : this.exitPromise;
    if (this.lastExit) return this.lastExit;
    throw new ContainerStateError(`container ${this.name} has not been started`);
  }

  get pid(): number | undefined {
    return this.shim?.initPid;
  }

  /**
   * The current run's stdin and terminal output, when this process holds them. The output stays
   * readable after the run ended (what it printed last is still in it): a command that exits
   * before start() resolves must not lose its output to a null.
   */
  get streams(): { stdin: Writable | null; terminalOutput: Readable | null } {
    return { stdin: this.shim?.stdin ?? null, terminalOutput: this.runTerminal };
  }

  /** Resizes the current run's terminal. */
  resize(size: ConsoleSize): void {
    if (this.options.tty === undefined) throw new ContainerStateError(`container ${this.name} has no terminal to resize; start it with tty: true`);
    if (!this.shim) throw new ContainerStateError(`container ${this.name} is not running`);
    this.shim.resize(size.rows, size.columns);
  }

  /** The stop signal: the option, else the image's STOPSIGNAL, else SIGTERM. */
  private stopSignal(): number {
    return signalNumber(this.options.stopSignal ?? this.source.config.StopSignal ?? "SIGTERM") ?? 15;
  }

  /** Sends the stop signal, then after `timeoutMs` kills everything in the container. */
  async stop(timeoutMs = this.options.stopTimeoutMs): Promise<ExitStatus> {
    this.assertNot("removed", "stop");
    const shim = this.shim;
    if (!shim) return this.lastExit ?? decodeWaitStatus(0, false);
    shim.signal(this.stopSignal());
    const exit = this.exitPromise!;
    const timer = new Promise<"timeout">((resolve) => setTimeout(resolve, timeoutMs, "timeout").unref?.());
    if ((await shim.keepAlive(Promise.race([exit, timer]))) === "timeout") await this.killAll();
    return shim.keepAlive(exit);
  }

  /** Kills every process of the container at once (cgroup.kill, else freezer), then PID 1. */
  private async killAll(): Promise<void> {
    await this.driver.killAll(this.id, this.shim?.initPid).catch(() => undefined);
    this.shim?.signal(9);
  }

  /** Sends a signal to the container's main process. */
  kill(signal: string | number): void {
    this.assertNot("removed", "signal");
    const n = signalNumber(signal);
    if (n === undefined) throw new BentoError("ERR_INVALID_OPTION", `signal: "${signal}" is not a signal; use a name such as "SIGKILL"`);
    if (!this.shim) throw new ContainerStateError(`container ${this.name} is not running`);
    this.shim.signal(n);
  }

  /** Stops (if needed) and deletes the container: its files, cgroups, name and state. */
  async remove(): Promise<void> {
    if (this.status === "removed") return;
    if (this.shim) await this.stop(0);
    // The container is dead; an exec's helper may not have noticed yet (or its command lives in
    // another container's PID namespace): killed and waited for, never waited on alone, and for
    // 2 seconds at most, so no helper that ignores its kill can hold the removal. Before the
    // cgroup's removal is awaited: the helper sits in the cgroup, which stays busy while it lives
    // (a healthcheck probe started as the container stopped failed a stack's down under load).
    for (const abort of this.execsRunning.values()) abort.abort();
    if (this.execsRunning.size > 0) await Promise.race([Promise.all(this.execsRunning.keys()), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    // A removal that gave up while such a helper lived (a stop long before) is tried once more.
    await this.cleanedUp.catch(() => this.driver.remove(this.id));
    this.status = "removed";
    await this.proxy?.close();
    discard(config().home, this.spec.containerDir, this.id);
    removeAnonymousVolumes(this.anonymousVolumes);
    releaseName(this.runtimeDir, this.name, this.id);
    releaseState(this.lock);
    untrack(this);
  }

  /** Exit-hook cleanup: kill, wait briefly for the cgroups to drain, delete everything. */
  teardownSync(): void {
    if (this.status === "removed") return;
    const pid = this.shim?.initPid;
    if (pid) {
      // In a shared PID namespace (without a cgroup to kill), init's descendants would outlive it.
      if (this.options.pidNamespace !== undefined) killDescendants(pid);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    cleanUpSync({ cgroupPaths: this.driver.paths(this.id), containerDir: this.spec.containerDir, removeDirs: this.anonymousVolumes.map(volumeDir) });
    releaseName(this.runtimeDir, this.name, this.id);
    rmSync(this.lock.dir, { recursive: true, force: true });
    closeSync(this.lock.fd);
    this.status = "removed";
  }

  async stats(): Promise<CgroupStats> {
    this.assertNot("removed", "read stats of");
    return this.driver.stats(this.id, this.shim?.initPid);
  }

  logLines(options: LogOptions = {}): Promise<LogLine[]> {
    return readLogLines(this.spec.logFile, options);
  }

  async logs(options: LogOptions = {}): Promise<string> {
    this.assertNot("removed", "read logs of");
    return formatLines(await this.logLines(options), options.timestamps);
  }

  followLogs(options: LogOptions = {}): AsyncGenerator<LogLine> {
    this.assertNot("removed", "follow logs of");
    return followLogLines(this.spec.logFile, this.exitPromise ?? Promise.resolve(), options);
  }

  /** Runs a command in the running container (see exec.ts). */
  async exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.execRaw(argv, options);
    return { exitCode: r.exitCode, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
  }

  /** exec with binary output and optional standard input. */
  async execRaw(argv: string[], options: ExecOptions = {}): Promise<RawExecResult> {
    this.assertNot("removed", "exec in");
    const shim = this.shim;
    if (!shim) throw new ContainerStateError(`container ${this.name} is not running; start it before exec`);
    const removal = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, removal.signal]) : removal.signal;
    const exec = runExec(
      {
        name: this.name,
        initPid: shim.initPid,
        network: this.spec.network,
        procsFiles: this.driver.procsFiles(this.id),
        process: this.spec.process,
        layers: this.layers(),
        hostNamespaces: (this.options.pidNamespace === "host" ? CLONE_NEWPID : 0) | (this.options.ipcNamespace === "host" ? CLONE_NEWIPC : 0),
      },
      argv,
      { ...options, signal },
    );
    const settled = exec.then(
      () => undefined,
      () => undefined,
    );
    this.execsRunning.set(settled, removal);
    void settled.then(() => this.execsRunning.delete(settled));
    return exec;
  }

  /** The container's filesystem layers, top-first: its upper dir, then the image's. */
  layers(): string[] {
    return [join(this.spec.containerDir, "upper"), ...this.spec.lowerDirs];
  }

  get running(): boolean {
    return this.shim !== undefined;
  }

  /** Makes an image of the container's changes (its upper dir over its image), as docker commit. */
  async commit(options: CommitOptions = {}): Promise<BuildResult> {
    this.assertNot("removed", "commit");
    // Through the seam: the build engine sits above containers (its RUN steps run containers).
    const mountTargets = this.spec.mounts.map((m) => m.target);
    const commit = () => buildEngine("commit").commit(join(this.spec.containerDir, "upper"), this.source, { ...options, mountTargets });
    // Paused, as docker commit does by default: the copy is of one moment, and the container
    // cannot swap a directory for a symlink while the tree is read. Without a cgroup of its own
    // (rootless, undelegated) it cannot be paused and is committed running.
    if (!this.running || options.pause === false || !(await this.driver.freeze(this.id, true))) return commit();
    try {
      return await commit();
    } finally {
      await this.driver.freeze(this.id, false);
    }
  }

  /** Copies `path` out of the container to `hostPath` (docker cp semantics). */
  copyFrom(path: string, hostPath: string): Promise<void> {
    this.assertNot("removed", "copy from");
    return copyFromContainer(this.copyTarget(), path, hostPath);
  }

  /** Copies a host path or a Buffer into the container at `path`. */
  copyTo(source: string | Buffer, path: string): Promise<void> {
    this.assertNot("removed", "copy into");
    return copyToContainer(this.copyTarget(), source, path);
  }

  private copyTarget(): CopyTarget {
    return { name: this.name, running: this.running, execRaw: (argv, o) => this.execRaw(argv, o), layers: () => this.layers(), mounts: this.spec.mounts };
  }

  assertNot(status: Status, verb: string): void {
    if (this.status === status && status === "removed") {
      throw new ContainerStateError(`cannot ${verb} container ${this.name}: it was removed (a removed container cannot come back; create a new one)`);
    }
  }
}
