/**
 * A warm MariaDB server as an image (see server-snapshot.ts).
 */
import type { RunningContainer } from "../container/running-container.js";
import type { Image } from "../image/image.js";
import { snapshotServer, type SnapshotOptions } from "./server-snapshot.js";

/**
 * Stops a running MariaDB container (SIGTERM: a normal shutdown that flushes InnoDB, so the copy
 * needs no recovery), commits its files as an image, removes it, and returns the image: give it
 * to `mariadb({ image })` for servers that start with everything it had (initialized, migrated,
 * seeded) and skip the initialization. The data directory (`/var/lib/mysql`) must not be a
 * volume: the official image declares one, so use {@link mariadbImageFromDebian} (or an image
 * without it). The image runs `mariadbd` directly as user mysql (no entrypoint script).
 *
 * @example
 * ```ts
 * const warm = await mariadb({ image }).start();
 * // ... run migrations ...
 * const migrated = await mariadbSnapshot(warm, { tag: "shop-db:migrated" });
 * await using db = await mariadb({ image: migrated }).start();
 * ```
 */
export function mariadbSnapshot(running: RunningContainer, options: SnapshotOptions = {}): Promise<Image> {
  // Initialized: the server starts directly as mysql, without the entrypoint script.
  const direct = { Entrypoint: [], Cmd: ["mariadbd"], User: "mysql" };
  return snapshotServer(running, "mariadb", "/var/lib/mysql", options, "use an image that declares no volume for it, such as mariadbImageFromDebian()", direct);
}
