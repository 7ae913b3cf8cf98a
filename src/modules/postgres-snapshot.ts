/**
 * A warm PostgreSQL server as an image: a server that was started, migrated and seeded once is
 * shut down cleanly and committed, so every container from the image starts with that data
 * directory (no initdb, no migrations, no crash recovery) and answers within a fraction of a
 * second.
 */
import type { RunningContainer } from "../container/running-container.js";
import { InvalidOptionError } from "../errors.js";
import { Image } from "../image/image.js";

/** Options of {@link postgresSnapshot}. */
export interface PostgresSnapshotOptions {
  /** The tag of the image; default `bento.local/postgres-snapshot:<the container's id prefix>`. */
  tag?: string;
}

/**
 * Stops a running PostgreSQL container (its STOPSIGNAL, SIGINT in the official images: a fast
 * shutdown that writes a checkpoint, so the copy needs no recovery), commits its files as an
 * image, removes it, and returns the image: give it to `postgres({ image })` for servers that
 * start with everything the container had (its databases, schema, rows and the template
 * databases of `postgresDatabases`). The data directory must be in the container's own files:
 * `PGDATA` under a volume (the official image's `/var/lib/postgresql/data` is one) is not
 * committed, so it is refused; start the container with `initAtBuild: true`, which moves
 * `PGDATA` out of the volume.
 *
 * @example
 * ```ts
 * const warm = await postgres({ image, initAtBuild: true }).start();
 * await execFileAsync("psql", [(await postgresConnection(warm)).url, "-f", "schema.sql"]);
 * const migrated = await postgresSnapshot(warm, { tag: "app-db:migrated" });
 * await using db = await postgres({ image: migrated }).start(); // the schema is there
 * ```
 */
export async function postgresSnapshot(running: RunningContainer, options: PostgresSnapshotOptions = {}): Promise<Image> {
  const tag = options.tag ?? `bento.local/postgres-snapshot:${running.id.slice(0, 12)}`;
  if (typeof tag !== "string" || tag === "") throw new InvalidOptionError("postgresSnapshot.tag", "expected a non-empty image tag, such as \"app-db:migrated\"");
  const inspected = await running.inspect();
  const pgdata = inspected.process.env.find((kv) => kv.startsWith("PGDATA="))?.slice("PGDATA=".length) || "/var/lib/postgresql/data";
  const volume = Object.keys(inspected.image.Volumes ?? {}).find((v) => pgdata === v || pgdata.startsWith(`${v.replace(/\/$/, "")}/`));
  if (volume !== undefined) {
    throw new InvalidOptionError("postgresSnapshot", `the data directory ${pgdata} is in the image's volume ${volume}, which a commit does not include; start the server with postgres({ initAtBuild: true }) (its data directory is outside the volume)`);
  }
  const stopped = await running.stop();
  try {
    await stopped.commit({ tag, message: "bento postgresSnapshot" });
  } finally {
    await stopped.remove();
  }
  return Image.from(tag);
}
