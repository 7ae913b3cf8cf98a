/**
 * How a client reaches a Mariadb container: the connection details read from a running container.
 * Its own module so that mariadb-databases.ts reads them without loading mariadb.ts, which
 * re-exports both.
 */
import type { RunningContainer } from "../container/running-container.js";
import { containerEnv, networkHost } from "./container-env.js";

/**
 * The port MariaDB listens on in the container.
 *
 * @example
 * ```ts
 * const port = running.hostPort(MARIADB_PORT);
 * ```
 */
export const MARIADB_PORT = 3306;

/**
 * How a client reaches a MariaDB container: from this machine (`host`, `port`, `url`) and from
 * other containers on the same network (`networkUrl`).
 *
 * @example
 * ```ts
 * const { url } = await mariadbConnection(running); // mysql://test:test@127.0.0.1:41234/test
 * ```
 */
export interface MariadbConnection {
  /** The host to connect to (published ports listen on loopback). */
  host: string;
  /** The host port that container port 3306 is published on. */
  port: number;
  /** The user (`MARIADB_USER`, else root). */
  user: string;
  /** Its password. */
  password: string;
  /** The database (`MARIADB_DATABASE`; empty when none was created). */
  database: string;
  /** root's password (`MARIADB_ROOT_PASSWORD`), for administration. */
  rootPassword: string;
  /** A `mysql://user:password@host:port/database` URI (mysql2 takes it as `uri`). */
  url: string;
  /**
   * The URI for other containers on the same bento Network: the container's name (which the
   * network resolves) and port 3306.
   */
  networkUrl: string;
}

/**
 * The connection details of a running MariaDB container, read from its environment (the official
 * image's variables, `MYSQL_*` too).
 *
 * @example
 * ```ts
 * await using db = await mariadb().start();
 * const { url, networkUrl } = await mariadbConnection(db);
 * ```
 */
export async function mariadbConnection(running: RunningContainer): Promise<MariadbConnection> {
  const env = await containerEnv(running);
  const rootPassword = env.get("MARIADB_ROOT_PASSWORD") ?? env.get("MYSQL_ROOT_PASSWORD") ?? "";
  const namedUser = env.get("MARIADB_USER") || env.get("MYSQL_USER");
  const user = namedUser || "root";
  const password = namedUser ? (env.get("MARIADB_PASSWORD") ?? env.get("MYSQL_PASSWORD") ?? "") : rootPassword;
  const database = env.get("MARIADB_DATABASE") ?? env.get("MYSQL_DATABASE") ?? "";
  const host = running.host;
  const port = running.hostPort(MARIADB_PORT);
  const auth = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  const url = `mysql://${auth}@${host}:${port}/${encodeURIComponent(database)}`;
  const networkUrl = `mysql://${auth}@${networkHost(running)}:${MARIADB_PORT}/${encodeURIComponent(database)}`;
  return { host, port, user, password, database, rootPassword, url, networkUrl };
}
