/**
 * A database server's container as an image: stopped cleanly (its STOPSIGNAL: the server writes
 * everything and shuts down, so the copy needs no crash recovery), committed, removed. Shared by
 * `postgresSnapshot` and `mariadbSnapshot`.
 */
import type { RunningContainer } from "../container/running-container.js";
import { InvalidOptionError } from "../errors.js";
import type { ImageConfig } from "../image/config.js";
import { Image } from "../image/image.js";

/**
 * Options of the modules' snapshot functions.
 *
 * @example
 * ```ts
 * const options: SnapshotOptions = { tag: "app-db:migrated" };
 * ```
 */
export interface SnapshotOptions {
  /** The tag of the image; default `bento.local/<kind>-snapshot:<the container's id prefix>`. */
  tag?: string;
}

/**
 * Stops `running`, commits it under a tag (with the config `changes`) and removes it; returns the
 * image. Refuses (changing nothing) when `dataDir` is in one of the image's volumes, which a
 * commit leaves out.
 *
 * @example
 * ```ts
 * const image = await snapshotServer(running, "postgres", "/var/lib/postgresql/data", {}, "start it with initAtBuild: true");
 * ```
 */
export async function snapshotServer(running: RunningContainer, kind: string, dataDir: string, options: SnapshotOptions, fix: string, changes: Partial<ImageConfig> = {}): Promise<Image> {
  const tag = options.tag ?? `bento.local/${kind}-snapshot:${running.id.slice(0, 12)}`;
  if (typeof tag !== "string" || tag === "") throw new InvalidOptionError(`${kind}Snapshot.tag`, 'expected a non-empty image tag, such as "app-db:migrated"');
  const inspected = await running.inspect();
  const volume = Object.keys(inspected.image.Volumes ?? {}).find((v) => dataDir === v || dataDir.startsWith(`${v.replace(/\/$/, "")}/`));
  if (volume !== undefined) {
    throw new InvalidOptionError(`${kind}Snapshot`, `the data directory ${dataDir} is in the image's volume ${volume}, which a commit does not include; ${fix}`);
  }
  const stopped = await running.stop();
  try {
    await stopped.commit({ tag, message: `bento ${kind}Snapshot`, changes });
  } finally {
    await stopped.remove();
  }
  return Image.from(tag);
}
