/**
 * A container that has stopped (or exited by itself). Its filesystem stays until `remove()`.
 */
import { ContainerView } from "./container-view.js";
import { relaunch } from "./relaunch.js";
import { RunningContainer } from "./running-container.js";
import { registerStoppedContainer } from "./typestate.js";

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
export class StoppedContainer extends ContainerView {
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
   * Starts it again with the same id and filesystem, and waits for it as its first start did.
   *
   * @example
   * ```ts
   * const running = await stopped.start();
   * ```
   */
  async start(): Promise<RunningContainer> {
    await relaunch(this.instance);
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
}

registerStoppedContainer((instance) => new StoppedContainer(instance));
