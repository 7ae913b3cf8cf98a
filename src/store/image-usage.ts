/**
 * "Is this image in use?" The store asks before removing an image. The runtime records each
 * container's image in `containers/<id>/config.json` (field `imageId`), which the default
 * implementation reads; a runtime with its own bookkeeping can pass another implementation to
 * {@link Store.open}.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { Digest } from "./digest.js";

/**
 * Tells the store which containers use an image, so that it does not remove one in use.
 *
 * @example
 * ```ts
 * const usage: ImageUsage = { containersUsing: async (imageId) => myRuntime.containersOf(imageId) };
 * const store = Store.open("/var/lib/my-store", { usage });
 * ```
 */
export interface ImageUsage {
  /**
   * Ids of the containers that use the image `imageId` (`sha256:...`), in any state: a stopped
   * container can be started again, and its overlay needs the image's layers.
   */
  containersUsing(imageId: Digest): Promise<string[]>;
}

/**
 * The default {@link ImageUsage}: reads `imageId` from every `containers/<id>/config.json`.
 *
 * @example
 * ```ts
 * const usage = new ContainerRecordUsage("/home/me/.local/share/bento/containers");
 * await usage.containersUsing("sha256:...");
 * ```
 */
export class ContainerRecordUsage implements ImageUsage {
  readonly #containersDir: string;

  /** Reads container records under `containersDir` (the store's `containers/`). */
  constructor(containersDir: string) {
    this.#containersDir = containersDir;
  }

  /** Ids of the containers whose `config.json` names `imageId`, sorted. */
  async containersUsing(imageId: Digest): Promise<string[]> {
    let ids: string[];
    try {
      ids = await fs.readdir(this.#containersDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    const hex = imageId.slice("sha256:".length);
    const users: string[] = [];
    for (const id of ids.sort()) {
      let record: unknown;
      try {
        record = JSON.parse(await fs.readFile(join(this.#containersDir, id, "config.json"), "utf8"));
      } catch {
        // Half-written or being removed: such a container is not a reason to keep an image.
        continue;
      }
      const used = (record as { imageId?: unknown }).imageId;
      if (used === imageId || used === hex) users.push(id);
    }
    return users;
  }
}
