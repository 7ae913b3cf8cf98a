/**
 * How a client reaches a Postgres container: the connection details read from a running container.
 * Its own module so that postgres-databases.ts reads them without loading postgres.ts, which
 * re-exports both.
 */
import type { RunningContainer } from "../container/running-container.js";
import { networkHost } from "./container-env.js";

/**
 * The port PostgreSQL listens on in the container.
 *
 * @example
 * ```ts
 * const port = running.hostPort(POSTGRES_PORT);
 * ```
 */
export const POSTGRES_PORT = 5432;

/**
 * A tmpfs that `postgres()` containers mount, owned by the server's user: `postgresDatabases`
 * keeps its templates and their clones there (the tablespace `bento_memory`), so a database per
 * test is a copy in memory rather than hundreds of files created and deleted on disk.
 */
export const POSTGRES_MEMORY_DIR = "/var/lib/bento-postgres-memory";

/**
 * How a client reaches a PostgreSQL container from this machine.
 *
 * @example
 * ```ts
 * const { host, port, user, password, database, url } = await postgresConnection(running);
 * ```
 */
export interface PostgresConnection {
  /** The host to connect to (published ports listen on loopback). */
  host: string;
  /** The host port that container port 5432 is published on. */
  port: number;
  /**
   * The superuser: the container's `POSTGRES_USER` ("test" unless {@link postgres} was given
   * another; "postgres", as in the official image, when the variable is unset).
   */
  user: string;
  /** Its password (`POSTGRES_PASSWORD`). */
  password: string;
  /** The database: the container's `POSTGRES_DB` ("test" from {@link postgres}; the user's name when unset). */
  database: string;
  /** A libpq connection URI: `postgresql://user:password@host:port/database`. */
  url: string;
  /**
   * The URI for other containers on the same bento Network: the container's name (which the
   * network resolves) and port 5432. Absent in details made by hand.
   */
  networkUrl?: string;
}

/**
 * The connection details of a running PostgreSQL container, read from its environment (the
 * official image's variables), so it works for any container that follows them.
 *
 * @example
 * ```ts
 * await using db = await postgres({ database: "app" }).start();
 * const { url } = await postgresConnection(db);
 * await execFileAsync("psql", [url, "-c", "SELECT 1"]);
 * ```
 */
export async function postgresConnection(running: RunningContainer): Promise<PostgresConnection> {
  const env = new Map(
    (await running.inspect()).process.env.map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)] as const;
    }),
  );
  const user = env.get("POSTGRES_USER") || "postgres";
  const password = env.get("POSTGRES_PASSWORD") ?? "";
  const database = env.get("POSTGRES_DB") || user;
  const host = running.host;
  const port = running.hostPort(POSTGRES_PORT);
  const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
  const networkUrl = new URL(url);
  networkUrl.host = `${networkHost(running)}:${POSTGRES_PORT}`;
  return { host, port, user, password, database, url, networkUrl: networkUrl.href };
}
