/**
 * What a container offers in every state: its identity, its output, its description, and copying
 * files in and out. RunningContainer and StoppedContainer add what their state allows.
 */
import type { BuildResult, CommitOptions } from "../image/build-engine.js";
import type { ContainerInstance } from "./instance.js";
import { inspectInstance, type ContainerInspect } from "./inspect.js";
import type { LogOptions } from "../runtime/logs.js";

/**
 * The members every container typestate shares.
 *
 * @example
 * ```ts
 * const view: ContainerView = running; // or a StoppedContainer
 * console.log(view.name, await view.logs({ tail: 5 }));
 * ```
 */
export abstract class ContainerView implements AsyncDisposable {
  /** @internal */
  constructor(
    /** @internal The shared state of the container that every typestate of it views. */
    protected readonly instance: ContainerInstance,
  ) {}

  /** @internal The shared state, for a container that enters this one's namespaces. */
  get core(): ContainerInstance {
    return this.instance;
  }

  /** The container's 64-hex-digit id. */
  get id(): string {
    return this.instance.id;
  }

  /** The container's unique name. */
  get name(): string {
    return this.instance.name;
  }

  /**
   * The container's output, interleaved as it was written (readable after it exited too).
   *
   * @example
   * ```ts
   * const text = await container.logs({ stream: "stderr", tail: 20, timestamps: true });
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
   * (await container.inspect()).state.status; // "running" or "exited"
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

  /**
   * Makes an image of the container's changes over its image, as `docker commit`: its files, and
   * its image config with `changes` applied. Mounted volumes, binds and tmpfs are not part of it.
   *
   * @example
   * ```ts
   * const { id } = await container.commit({ tag: "snapshot:seeded" });
   * ```
   */
  commit(options: CommitOptions = {}): Promise<BuildResult> {
    return this.instance.commit(options);
  }

  /** Stops (when running) and removes the container (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.instance.remove();
  }
}
