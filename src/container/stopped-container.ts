/**
 * A container that has stopped (or exited by itself). Its filesystem stays until `remove()`.
 */
import type { ContainerInstance } from "./instance.js";
import { inspectInstance, type ContainerInspect } from "./inspect.js";
import type { LogOptions } from "./logs.js";
import { RunningContainer } from "./running-container.js";

/**
 * A stopped container.
 *
 * @example
 * ```ts
 * const stopped = await running.stop();
 * console.log(stopped.exitCode, await stopped.logs());
 * const again = await stopped.start(); // same id, same files
 * ```
 */
export class StoppedContainer implements AsyncDisposable {
  /** @internal */
  constructor(private readonly instance: ContainerInstance) {}

  /** The container's id. */
  get id(): string {
    return this.instance.id;
  }

  /** The container's name. */
  get name(): string {
    return this.instance.name;
  }

  /** The exit code of its last run (128 + n when killed by signal n). */
  get exitCode(): number | undefined {
    return this.instance.lastExit?.exitCode;
  }

  /** The signal that ended its last run, if one did. */
  get signal(): string | undefined {
    return this.instance.lastExit?.signal;
  }

  /** True when the OOM killer ended its last run. */
  get oomKilled(): boolean {
    return this.instance.lastExit?.oomKilled ?? false;
  }

  /**
   * Starts it again with the same id and filesystem.
   *
   * @example
   * ```ts
   * const running = await stopped.start();
   * ```
   */
  async start(): Promise<RunningContainer> {
    await this.instance.launch();
    return new RunningContainer(this.instance);
  }

  /**
   * Deletes the container: its files, cgroups and name. It cannot come back.
   *
   * @example
   * ```ts
   * await stopped.remove();
   * ```
   */
  remove(): Promise<void> {
    return this.instance.remove();
  }

  /**
   * Its output, readable after exit.
   *
   * @example
   * ```ts
   * await stopped.logs({ tail: 10 });
   * ```
   */
  logs(options: LogOptions = {}): Promise<string> {
    return this.instance.logs(options);
  }

  /**
   * A description of the container, as `docker inspect` gives.
   *
   * @example
   * ```ts
   * (await stopped.inspect()).state.exitCode;
   * ```
   */
  async inspect(): Promise<ContainerInspect> {
    return inspectInstance(this.instance);
  }

  /**
   * Copies a host file or directory (or a Buffer, as a file) into the container, keeping modes
   * and owners, as `docker cp`. Into an existing directory it lands inside it.
   *
   * @example
   * ```ts
   * await container.copyTo("./fixtures", "/app/fixtures");
   * await container.copyTo(Buffer.from("key=value\n"), "/etc/app.conf");
   * ```
   */
  copyTo(source: string | Buffer, path: string): Promise<void> {
    return this.instance.copyTo(source, path);
  }

  /**
   * Copies a file or directory out of the container to `hostPath` (inside it, when it is a
   * directory), keeping modes and owners, as `docker cp`.
   *
   * @example
   * ```ts
   * await container.copyFrom("/var/log/app", "./artifacts");
   * ```
   */
  copyFrom(path: string, hostPath: string): Promise<void> {
    return this.instance.copyFrom(path, hostPath);
  }

  /** Removes the container (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.instance.remove();
  }
}
