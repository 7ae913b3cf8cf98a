/**
 * A warm PostgreSQL server as an image: a server that was started, migrated and seeded once is
 * shut down cleanly and committed, so every container from the image starts with that data
 * directory (no initdb, no migrations, no crash recovery) and answers within a fraction of a
 * second.
 */
import type { RunningContainer } from "../container/running-container.js";
import type { Image } from "../image/image.js";
import { containerEnv } from "./container-env.js";
import { snapshotServer, type SnapshotOptions } from "./server-snapshot.js";

/**
 * Stops a running PostgreSQL container (its STOPSIGNAL, SIGINT in the official images: a fast
 * shutdown that writes a checkpoint, so the copy needs no recovery), commits its files as an
 * image, removes it, and returns the image: give it to `postgres({ image })` for servers that
 * start with everything the container had (its databases, schema, rows and the template
 * databases of `postgresDatabases`). The data directory must be in the container's own files:
 * `PGDATA` under a volume (the official image's `/var/lib/postgresql/data` is one) is not
 * committed, so it is refused; start the container with `initAtBuild: true`, which moves
 * `PGDATA` out of the volume. The image runs `postgres` directly as user postgres (no entrypoint
 * script: there is nothing left to initialize).
 *
 * @example
 * ```ts
 * const warm = await postgres({ image, initAtBuild: true }).start();
 * await execFileAsync("psql", [(await postgresConnection(warm)).url, "-f", "schema.sql"]);
 * const migrated = await postgresSnapshot(warm, { tag: "app-db:migrated" });
 * await using db = await postgres({ image: migrated }).start(); // the schema is there
 * ```
 */
export async function postgresSnapshot(running: RunningContainer, options: SnapshotOptions = {}): Promise<Image> {
  const pgdata = (await containerEnv(running)).get("PGDATA") || "/var/lib/postgresql/data";
  // The data directory is initialized: the server starts directly as postgres, without the
  // entrypoint script (a shell, a find over PGDATA, a setpriv).
  const direct = { Entrypoint: [], Cmd: ["postgres"], User: "postgres" };
  return snapshotServer(running, "postgres", pgdata, options, "start the server with postgres({ initAtBuild: true }) (its data directory is outside the volume)", direct);
}
