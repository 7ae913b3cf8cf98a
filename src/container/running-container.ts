/**
 * A started container. Only the operations valid while it runs are here; `stop()` gives a
 * {@link StoppedContainer}.
 */
import type { Readable, Writable } from "node:stream";
import { ContainerStateError } from "../errors.js";
import { checkConsoleSize } from "./terminal-options.js";
import type { CgroupStats } from "../runtime/cgroup/driver.js";
import type { ExitStatus } from "../runtime/wait-status.js";
import type { ExecOptions, ExecResult } from "./instance.js";
import { ContainerView } from "./container-view.js";
import type { LogLine, LogOptions } from "../runtime/logs.js";
import { relaunch } from "./relaunch.js";
import type { StoppedContainer } from "./stopped-container.js";
import { stoppedContainer } from "./typestate.js";

/**
 * A running container.
 *
 * @example
 * ```ts
 * await using running = await new Container(image, { command: ["sleep", "60"] }).start();
 * const { stdout } = await running.exec(["cat", "/etc/hostname"]);
 * const stopped = await running.stop();
 * ```
 */
export class RunningContainer extends ContainerView {
  /** The host pid of the container's PID 1 (bento's init, or the command with `init: false`). */
  get pid(): number | undefined {
    return this.instance.pid;
  }

  /**
   * The command's standard input, with `interactive` (its terminal's input with `tty`); end it
   * for end-of-file. Null otherwise, and for a detached container.
   */
  get stdin(): Writable | null {
    return this.instance.streams.stdin;
  }

  /**
   * The terminal's output as it comes, with `tty` (the logs have it too, as stdout). Null
   * otherwise, and for a detached container. Read it: unread output holds the command back.
   *
   * @example
   * ```ts
   * running.terminalOutput?.pipe(process.stdout);
   * ```
   */
  get terminalOutput(): Readable | null {
    return this.instance.streams.terminalOutput;
  }

  /**
   * Sets the window size of the container's terminal (`tty`); its foreground process gets SIGWINCH.
   *
   * @example
   * ```ts
   * process.stdout.on("resize", () => running.resize(process.stdout.rows, process.stdout.columns));
   * ```
   */
  resize(rows: number, columns: number): void {
    this.instance.resize(checkConsoleSize("resize", { rows, columns }));
  }

  /** Where a client on this machine connects to the container's published ports. */
  get host(): string {
    return "127.0.0.1";
  }

  /**
   * The host port that container port `port` is published on (on both 127.0.0.1 and ::1).
   * Throws when the port is not published.
   *
   * @example
   * ```ts
   * const url = `http://${running.host}:${running.hostPort(8080)}/`;
   * ```
   */
  hostPort(port: number, protocol: "tcp" | "udp" = "tcp"): number {
    const hostPort = this.instance.hostPort(port, protocol);
    if (hostPort === undefined) {
      const published = this.instance.ports.map((p) => `${p.container}/${p.protocol}`).join(", ") || "none";
      throw new ContainerStateError(`container ${this.name} does not publish ${port}/${protocol} (published: ${published}); add it to the ports option`);
    }
    return hostPort;
  }

  /**
   * Runs a command inside the container (all its namespaces and cgroups) and returns its exit
   * code and output.
   *
   * @example
   * ```ts
   * const { exitCode, stdout } = await running.exec(["sh", "-c", "echo $HOME"], { user: "nobody" });
   * await running.exec(["psql", "-U", "test"], { stdin: createReadStream("dump.sql") });
   * await running.exec(["make", "test"], { onOutput: (stream, chunk) => process[stream].write(chunk) });
   * ```
   */
  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.instance.exec(argv, options);
  }

  /**
   * Follows the output line by line until the container exits.
   *
   * @example
   * ```ts
   * for await (const line of running.followLogs()) if (line.text.includes("ready")) break;
   * ```
   */
  followLogs(options: LogOptions = {}): AsyncGenerator<LogLine> {
    return this.instance.followLogs(options);
  }

  /**
   * Sends the stop signal (the option, else the image's STOPSIGNAL, else SIGTERM); after
   * `timeoutMs` (default: the stopTimeoutMs option, 10 s) kills every process in the container.
   *
   * @example
   * ```ts
   * const stopped = await running.stop({ timeoutMs: 2000 });
   * console.log(stopped.exitCode);
   * ```
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<StoppedContainer> {
    await this.instance.stop(options.timeoutMs);
    return stoppedContainer(this.instance);
  }

  /**
   * Sends a signal to the container's main process (through bento's init).
   *
   * @example
   * ```ts
   * await running.kill("SIGKILL");
   * ```
   */
  async kill(signal: string | number = "SIGKILL"): Promise<void> {
    this.instance.kill(signal);
  }

  /**
   * Stops and starts the container again: same id, same filesystem; it is waited for as its
   * first start was (its wait strategy, a fresh startupTimeoutMs).
   *
   * @example
   * ```ts
   * await running.restart();
   * ```
   */
  async restart(options: { timeoutMs?: number } = {}): Promise<RunningContainer> {
    await this.instance.stop(options.timeoutMs);
    await relaunch(this.instance);
    return this;
  }

  /**
   * Resolves when the container's main process exits.
   *
   * @example
   * ```ts
   * const { exitCode, signal, oomKilled } = await running.wait();
   * ```
   */
  wait(): Promise<ExitStatus> {
    return this.instance.wait();
  }

  /**
   * Current resource usage from the container's cgroups.
   *
   * @example
   * ```ts
   * const { memoryBytes, cpuUsageNs, pids } = await running.stats();
   * ```
   */
  stats(): Promise<CgroupStats> {
    return this.instance.stats();
  }
}
