/**
 * A container spec: an image plus options. `start()` gives a {@link RunningContainer}.
 */
import { config } from "../config.js";
import { InvalidOptionError, StartupError } from "../errors.js";
import { Deadline } from "../wait/deadline.js";
import { HealthMonitor, resolveHealthcheck } from "../wait/healthcheck.js";
import { consumeLogs } from "../wait/log-consumer.js";
import { phaseTimeout, waitForStartup } from "../wait/startup.js";
import { Wait } from "../wait/wait.js";
import { AttachedContainer } from "./attached-container.js";
import { ContainerInstance } from "./instance.js";
import { resolveImage, type ImageLike } from "./image-source.js";
import { normalizeOptions, type ContainerOptions, type NormalizedOptions } from "./options.js";
import { RunningContainer } from "./running-container.js";
// Registers the stopped state that RunningContainer.stop() returns (typestate.ts).
import "./stopped-container.js";
import { writeStartFiles } from "./start-files.js";

/**
 * A container to start: an image and options. Options are checked here, so a bad one throws
 * before anything is created.
 *
 * @example
 * ```ts
 * const image = Image.fromRootfs("/srv/rootfs").cmd(["sh", "-c", "echo hello"]);
 * await using running = await new Container(image, { resources: { memory: "64m", pids: 100 } }).start();
 * console.log((await running.wait()).exitCode, await running.logs());
 * ```
 */
export class Container {
  private readonly options: NormalizedOptions;

  constructor(
    private readonly image: ImageLike,
    options: ContainerOptions = {},
  ) {
    this.options = normalizeOptions(options);
  }

  /**
   * Finds a container started with `detach: true` again, from any process (by name, id or unique
   * id prefix), to exec in it, read its logs, copy files in and out, stop, start and restart it,
   * wait for it and remove it. Throws a
   * BentoError with code `ERR_NOT_FOUND` when no container matches, and a ContainerStateError for
   * a container that was not started detached (only its own process may operate it).
   *
   * @example
   * ```ts
   * const db = await Container.attach("db");
   * await db.exec(["sh", "-c", "echo ok"]);
   * await db.stop();
   * await db.remove();
   * ```
   */
  static async attach(nameOrId: string): Promise<AttachedContainer> {
    return AttachedContainer.find(nameOrId);
  }

  /**
   * Creates and starts the container; resolves once its command runs and the `wait` strategy (by
   * default its healthcheck, if it has one) finds it ready. Every phase shares one deadline,
   * `startupTimeoutMs` times `BENTO_TIMEOUT_SCALE`. On failure nothing is left behind and a
   * StartupError names the phase that failed.
   *
   * @example
   * ```ts
   * const running = await new Container(image, { ports: [8080], wait: Wait.forHttp("/", 8080) }).start();
   * ```
   */
  async start(): Promise<RunningContainer> {
    const deadline = Deadline.start(this.options.startupTimeoutMs, config().timeoutScale);
    const label = this.options.name ?? "container";
    const source = await deadline
      .race(resolveImage(this.image), () => phaseTimeout(label, "build", deadline, "the image"))
      .catch((error: unknown) => {
        // A failed build is a failed start (its phase named); a bad option stays what it is.
        if (error instanceof StartupError || error instanceof InvalidOptionError) throw error;
        throw new StartupError(label, { phase: "build" }, { cause: error });
      });
    const instance = await ContainerInstance.create(this.options, source);
    try {
      await writeStartFiles(instance, this.options.files);
    } catch (error) {
      await instance.remove();
      throw new StartupError(instance.name, { phase: "prepare" }, { cause: error });
    }
    const launched = instance.launch();
    try {
      await deadline.race(launched, () => phaseTimeout(instance.name, "setup", deadline, "the container's setup"));
      const healthcheck = resolveHealthcheck(this.options.healthcheck, source.config);
      if (healthcheck) HealthMonitor.watch(instance, healthcheck);
      if (this.options.onLog) consumeLogs(instance, this.options.onLog);
      const wait = this.options.wait ?? (healthcheck ? Wait.forHealthy() : undefined);
      instance.startupWait = wait;
      if (wait) await waitForStartup(instance, wait, deadline);
    } catch (error) {
      await launched.catch(() => undefined);
      await instance.remove();
      throw error;
    }
    return new RunningContainer(instance);
  }
}
