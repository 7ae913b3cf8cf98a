/**
 * A detached container found again from any process (`Container.attach`): what that process
 * can do without the starter's objects, through the container's state dir. Its init's recorded
 * pid to signal and exec into, its lock to learn that its helper ended, the exit its helper
 * recorded, and its log file.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { config } from "../config.js";
import { BentoError, ContainerStateError } from "../errors.js";
import { cgroupDriver } from "../runtime/cgroup/detect.js";
import { formatLines, type LogOptions, readLogLines } from "../runtime/logs.js";
import { killCgroups, probeLock } from "../runtime/container-processes.js";
import { findMachineContainer, listMachineContainers, removeMachineContainer, type MachineContainer, type MachineContainerStatus } from "../runtime/machine-containers.js";
import { readExitRecord, recordedInitPids } from "../runtime/state.js";
import { decodeWaitStatus, type ExitStatus, signalNumber } from "../runtime/wait-status.js";
import { volumeDataDir } from "../volume/volume-store.js";
import { readContainerRecord } from "./container-record.js";
import { copyFromContainer, copyToContainer, type CopyTarget } from "./copy.js";
import { readDetachedRecord, type DetachedRecord } from "./detached-record.js";
import { startDetachedAgain } from "./detached-start.js";
import { runExec, type ExecOptions, type ExecResult, type ExecTarget } from "./exec.js";
import { connectTerminal, type AttachedTerminal } from "./terminal-attach.js";

const pollMs = 50;

/**
 * A detached container, reached from a process other than the one that started it.
 *
 * @example
 * ```ts
 * const db = await Container.attach("db");
 * const { stdout } = await db.exec(["pg_isready"]);
 * await db.stop();
 * console.log((await db.wait()).exitCode, await db.logs({ tail: 5 }));
 * await db.remove();
 * ```
 */
export class AttachedContainer {
  private constructor(
    private machine: MachineContainer,
    private readonly detached: DetachedRecord,
  ) {}

  /** @internal Finds the container by name, id or unique id prefix; see `Container.attach`. */
  static find(ref: string): AttachedContainer {
    if (typeof ref !== "string" || ref === "") throw new BentoError("ERR_INVALID_OPTION", "attach: give a container name, id or id prefix");
    const machine = findMachineContainer(ref, listMachineContainers());
    const detached = machine.detached ? readDetachedRecord(stateDir(machine.id)) : undefined;
    if (detached === undefined) {
      throw new ContainerStateError(`container ${machine.name} was not started detached: it belongs to process ${machine.ownerPid ?? "?"}, which alone can operate it (start it with detach: true, or bento run -d)`);
    }
    return new AttachedContainer(machine, detached);
  }

  /**
   * Connects to the container's terminal (one started with `tty: true`, as `bento run -dit`):
   * its output from now on, and what to type into it. Several processes may attach at once.
   *
   * @example
   * ```ts
   * const terminal = await (await Container.attach("shell")).attachTerminal();
   * terminal.output.pipe(process.stdout);
   * terminal.input.write("exit 3\r");
   * ```
   */
  async attachTerminal(): Promise<AttachedTerminal> {
    this.initPid("attach to");
    return connectTerminal(this.id, this.name);
  }

  /** The container's 64-hex-digit id. */
  get id(): string {
    return this.machine.id;
  }

  /** The container's unique name. */
  get name(): string {
    return this.machine.name;
  }

  /** Where it stands now: "running", or "exited" once its command ended (see MachineContainerStatus). */
  get status(): MachineContainerStatus {
    return this.refresh().status;
  }

  /**
   * Runs a command inside the container, as `RunningContainer.exec` does.
   *
   * @example
   * ```ts
   * const { exitCode, stdout } = await db.exec(["sh", "-c", "echo $HOSTNAME"]);
   * ```
   */
  async exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const r = await runExec(this.execTarget("exec in"), argv, options);
    return { exitCode: r.exitCode, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
  }

  /**
   * Starts it again once it exited (as `docker start`): its helper is launched anew, on the same
   * host ports; resolves once its command runs. Refused while it runs, and for a container that
   * shared another's namespaces or joined a Network (those lived in the process that started it).
   *
   * @example
   * ```ts
   * await db.stop();
   * await db.start();
   * ```
   */
  async start(): Promise<void> {
    if (!this.ended()) throw new ContainerStateError(`container ${this.name} is already running`);
    await startDetachedAgain(this.refresh(), this.detached);
  }

  /**
   * Stops it if it runs (see {@link stop}), then starts it again (as `docker restart`).
   *
   * @example
   * ```ts
   * await db.restart({ timeoutMs: 2_000 });
   * ```
   */
  async restart(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.ended()) await this.stop(options);
    await this.start();
  }

  /**
   * Copies `path` out of the container to `hostPath`, running or exited (docker cp semantics;
   * a running one needs a tar in its image, as `RunningContainer.copyFrom`).
   *
   * @example
   * ```ts
   * await db.copyFrom("/var/log/db.log", "./db.log");
   * ```
   */
  copyFrom(path: string, hostPath: string): Promise<void> {
    return copyFromContainer(this.copyTarget(), path, hostPath);
  }

  /**
   * Copies a host path (or a Buffer, as a file) into the container at `path`, running or exited.
   *
   * @example
   * ```ts
   * await db.copyTo("./init.sql", "/docker-entrypoint-initdb.d/init.sql");
   * ```
   */
  copyTo(source: string | Buffer, path: string): Promise<void> {
    return copyToContainer(this.copyTarget(), source, path);
  }

  private copyTarget(): CopyTarget {
    const running = !this.ended();
    // An exited container's volumes and binds are not mounted: copies reach their sources.
    const mounts = running
      ? []
      : (readContainerRecord(this.machine.containerDir).record.mounts ?? []).flatMap((m) =>
          m.kind === "bind" ? [{ ...m, isFile: false }] : m.kind === "volume" ? [{ kind: "bind" as const, source: volumeDataDir(m.name), target: m.target, readonly: m.readonly, isFile: false }] : [],
        );
    return {
      name: this.name,
      running,
      execRaw: (argv, options) => runExec(this.execTarget("copy into or out of"), argv, options),
      layers: () => [join(this.machine.containerDir, "upper"), ...this.detached.lowerDirs],
      mounts,
    };
  }

  /**
   * The container's output so far (its helper keeps writing it while it runs).
   *
   * @example
   * ```ts
   * console.log(await db.logs({ tail: 20, timestamps: true }));
   * ```
   */
  async logs(options: LogOptions = {}): Promise<string> {
    return formatLines(await readLogLines(this.machine.logPath, options), options.timestamps);
  }

  /**
   * Sends a signal to the container's main process (through bento's init).
   *
   * @example
   * ```ts
   * await db.kill("SIGHUP");
   * ```
   */
  async kill(signal: string | number = "SIGKILL"): Promise<void> {
    const n = signalNumber(signal);
    if (n === undefined) throw new BentoError("ERR_INVALID_OPTION", `signal: "${signal}" is not a signal; use a name such as "SIGKILL"`);
    process.kill(this.initPid("signal"), n);
  }

  /**
   * Sends the stop signal (the container's stopSignal, else the image's STOPSIGNAL, else
   * SIGTERM); after `timeoutMs` (default: its stopTimeoutMs) kills every process in it. Resolves
   * with its exit once its helper recorded it; at once when it already ended.
   *
   * @example
   * ```ts
   * const { exitCode } = await db.stop({ timeoutMs: 2000 });
   * ```
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<ExitStatus> {
    const pid = recordedInitPids(stateDir(this.id))[0];
    if (pid === undefined || this.ended()) return this.wait();
    const timeoutMs = options.timeoutMs ?? this.detached.stopTimeoutMs;
    signal(pid, this.detached.stopSignal);
    const end = Date.now() + timeoutMs;
    while (!this.ended() && Date.now() < end) await sleep(pollMs);
    if (!this.ended()) {
      await killCgroups(this.machine.record?.cgroupPaths ?? []);
      signal(pid, 9);
    }
    return this.wait();
  }

  /**
   * Resolves when the container's command has ended, with how it ended (from any process, as
   * `docker wait`).
   *
   * @example
   * ```ts
   * const { exitCode, oomKilled } = await db.wait();
   * ```
   */
  async wait(): Promise<ExitStatus> {
    while (!this.ended()) await sleep(pollMs);
    const recorded = readExitRecord(stateDir(this.id));
    // No record: its helper was killed before it could write one; so was the container.
    return recorded ? decodeWaitStatus(recorded.payloadStatus ?? recorded.initStatus, (recorded.oomKills ?? 0) > 0) : decodeWaitStatus(0x9, false);
  }

  /**
   * Deletes the container and its files. A running one is refused unless `force`, which kills
   * its processes first (as `docker rm -f`).
   *
   * @example
   * ```ts
   * await db.remove({ force: true });
   * ```
   */
  async remove(options: { force?: boolean } = {}): Promise<void> {
    await removeMachineContainer(this.refresh(), { force: options.force ?? false });
  }

  /** What an exec into it needs; throws when it is not running. */
  private execTarget(verb: string): ExecTarget {
    const initPid = this.initPid(verb);
    const layers = [join(this.machine.containerDir, "upper"), ...this.detached.lowerDirs];
    return { name: this.name, initPid, network: this.detached.network, procsFiles: cgroupDriver().procsFiles(this.id), process: this.detached.process, layers };
  }

  /** True once its helper recorded the exit, or ended without doing so. */
  private ended(): boolean {
    const dir = stateDir(this.id);
    return readExitRecord(dir) !== undefined || probeLock(join(dir, "lock")) !== "held";
  }

  private initPid(verb: string): number {
    const pid = this.ended() ? undefined : recordedInitPids(stateDir(this.id))[0];
    if (pid === undefined) throw new ContainerStateError(`cannot ${verb} container ${this.name}: it is not running (its command ended)`);
    return pid;
  }

  private refresh(): MachineContainer {
    this.machine = findMachineContainer(this.id, listMachineContainers());
    return this.machine;
  }
}

function stateDir(id: string): string {
  return join(config().runtimeDir, "containers", id);
}

function signal(pid: number, n: number): void {
  try {
    process.kill(pid, n);
  } catch {
    // it ended meanwhile
  }
}
