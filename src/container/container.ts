/**
 * A container spec: an image plus options. `start()` gives a {@link RunningContainer}.
 */
import { ContainerInstance } from "./instance.js";
import { resolveImage, type ImageLike } from "./image-source.js";
import { normalizeOptions, type ContainerOptions, type NormalizedOptions } from "./options.js";
import { RunningContainer } from "./running-container.js";

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
   * Creates and starts the container; resolves once its command runs. On failure nothing is
   * left behind and a StartupError names the phase that failed.
   *
   * @example
   * ```ts
   * const running = await new Container(image).start();
   * ```
   */
  async start(): Promise<RunningContainer> {
    const source = await resolveImage(this.image);
    const instance = ContainerInstance.create(this.options, source);
    try {
      await instance.launch();
    } catch (error) {
      await instance.remove();
      throw error;
    }
    return new RunningContainer(instance);
  }
}
