/**
 * `bento/modules/postgres`: a PostgreSQL server as a test fixture. {@link postgres} gives a
 * `Container` configured with the official image's conventions (`POSTGRES_USER`,
 * `POSTGRES_PASSWORD`, `POSTGRES_DB`, `/docker-entrypoint-initdb.d`), {@link postgresConnection}
 * the details a client needs, and {@link postgresImageFromDebian} an image with the same
 * conventions built from a Debian base, for machines that cannot pull the official image.
 *
 * @packageDocumentation
 * @module bento/modules/postgres
 */
// Containers build plans through the build engine, which installs itself when imported.
import "../image/build/index.js";
import { Container } from "../container/container.js";
import type { ImageLike } from "../container/image-source.js";
import type { ContainerOptions } from "../container/options.js";
import type { RunningContainer } from "../container/running-container.js";
import { InvalidOptionError } from "../errors.js";
import type { Image } from "../image/image.js";
import { Wait } from "../wait/wait.js";
import { imageOf } from "./image-of.js";

/**
 * The image {@link postgres} runs by default (pulled as `BENTO_PULL_POLICY` allows).
 *
 * @example
 * ```ts
 * await Store.default().pull(POSTGRES_IMAGE);
 * ```
 */
export const POSTGRES_IMAGE = "docker.io/library/postgres:16-alpine";

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
 * Options of {@link postgres}.
 *
 * @example
 * ```ts
 * const options: PostgresOptions = { database: "app", user: "app", password: "secret", initSql: "CREATE TABLE t (id int)" };
 * ```
 */
export interface PostgresOptions {
  /**
   * The image: a reference or an Image that follows the official image's conventions. Default
   * {@link POSTGRES_IMAGE}; see {@link postgresImageFromDebian} for one built locally.
   */
  image?: string | ImageLike;
  /** The database created at initialization (`POSTGRES_DB`); default "test". */
  database?: string;
  /** The superuser created at initialization (`POSTGRES_USER`); default "test". */
  user?: string;
  /** The superuser's password (`POSTGRES_PASSWORD`); default "test". Must not be empty. */
  password?: string;
  /**
   * SQL run once, when the server initializes an empty data directory, in `database` as `user`
   * (written to `/docker-entrypoint-initdb.d/bento-init.sql` by a build step over the image, so
   * it runs after the image's own init files whose names sort before it). A failing statement
   * fails the start, with the server's message in the StartupError's log lines.
   */
  initSql?: string;
  /**
   * More container options (name, mounts, network, resources...). `env` is merged with the
   * variables above (these win); `POSTGRES_INITDB_ARGS` gets `--auth-host=scram-sha-256` first
   * (or `POSTGRES_HOST_AUTH_METHOD`'s value), so TCP clients need the password even from
   * loopback, where bento's port proxy connects from. `ports` defaults to `[5432]`; `wait` to
   * `pg_isready` over TCP in the container.
   */
  container?: ContainerOptions;
}

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
  /** The superuser (`POSTGRES_USER`, default "postgres"). */
  user: string;
  /** Its password (`POSTGRES_PASSWORD`). */
  password: string;
  /** The database (`POSTGRES_DB`, default the user's name). */
  database: string;
  /** A libpq connection URI: `postgresql://user:password@host:port/database`. */
  url: string;
}

const nameOption = (option: string, value: unknown): string => {
  if (typeof value !== "string" || value === "" || value.includes("\0")) {
    throw new InvalidOptionError(`postgres.${option}`, `expected a non-empty string without NUL, got ${JSON.stringify(value)}`);
  }
  return value;
};

/**
 * A PostgreSQL server to start: a `Container` whose `start()` resolves once the server accepts
 * TCP connections. The official image restarts its server once after initialization (a
 * temporary server, reachable only on its Unix socket, runs the init scripts first), so the wait
 * is `pg_isready` against 127.0.0.1 in the container, which only the final server answers.
 *
 * @example
 * ```ts
 * import { Image } from "bento";
 * import { postgres, postgresConnection } from "bento/modules/postgres";
 * import { useContainer } from "bento/vitest";
 *
 * it("stores rows", async () => {
 *   const db = await useContainer(postgres({ initSql: "CREATE TABLE users (name text)" }));
 *   const { url } = await postgresConnection(db); // postgresql://test:test@127.0.0.1:41234/test
 * });
 * ```
 */
export function postgres(options: PostgresOptions = {}): Container {
  const user = nameOption("user", options.user ?? "test");
  const password = nameOption("password", options.password ?? "test");
  const database = nameOption("database", options.database ?? "test");
  let image = imageOf(options.image ?? POSTGRES_IMAGE);
  if (options.initSql !== undefined) {
    if (typeof options.initSql !== "string") throw new InvalidOptionError("postgres.initSql", "expected SQL text (a string)");
    // The SQL travels as an argument, so it needs no quoting and is part of the step's cache key.
    image = image.run(["/bin/sh", "-c", 'mkdir -p /docker-entrypoint-initdb.d && printf "%s\\n" "$1" > /docker-entrypoint-initdb.d/bento-init.sql', "sh", options.initSql]);
  }
  const extra = options.container ?? {};
  // Published ports reach the server from 127.0.0.1 inside the container (bento's port proxy),
  // which initdb trusts by default; in Docker they come from the bridge and need the password.
  // Asking for it on every TCP connection keeps Docker's behaviour (the Unix socket stays trusted).
  const authHost = `--auth-host=${extra.env?.POSTGRES_HOST_AUTH_METHOD ?? "scram-sha-256"}`;
  const initdbArgs = [authHost, extra.env?.POSTGRES_INITDB_ARGS].filter(Boolean).join(" ");
  return new Container(image, {
    ports: [POSTGRES_PORT],
    wait: Wait.forCommand(["pg_isready", "-q", "-h", "127.0.0.1", "-p", String(POSTGRES_PORT), "-U", user, "-d", database]),
    ...extra,
    env: { ...extra.env, POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: database, POSTGRES_INITDB_ARGS: initdbArgs },
  });
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
  const env = new Map((await running.inspect()).process.env.map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)] as const;
  }));
  const user = env.get("POSTGRES_USER") || "postgres";
  const password = env.get("POSTGRES_PASSWORD") ?? "";
  const database = env.get("POSTGRES_DB") || user;
  const host = running.host;
  const port = running.hostPort(POSTGRES_PORT);
  const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
  return { host, port, user, password, database, url };
}

// A subset of the official image's docker-entrypoint.sh: as root it prepares the data and socket
// directories and re-runs itself as postgres (setpriv, util-linux); on an empty data directory it
// runs initdb with the password, adds the host auth line, starts a temporary server on the Unix
// socket only, creates the database, runs /docker-entrypoint-initdb.d, stops it, then execs the
// server in the foreground.
const POSTGRES_ENTRYPOINT = `#!/bin/sh
set -eu
case "\${1:-}" in -*) set -- postgres "$@" ;; esac
if [ "\${1:-}" != postgres ]; then exec "$@"; fi
PGDATA="\${PGDATA:-/var/lib/postgresql/data}"
export PGDATA
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" /var/run/postgresql \\! -user postgres -exec chown postgres:postgres '{}' +
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "\${POSTGRES_PASSWORD:-}" ] && [ "\${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo "error: the database is uninitialized and no superuser password is set: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
    exit 1
  fi
  POSTGRES_USER="\${POSTGRES_USER:-postgres}"
  POSTGRES_DB="\${POSTGRES_DB:-$POSTGRES_USER}"
  pwfile="$(mktemp)"
  printf '%s\\n' "\${POSTGRES_PASSWORD:-}" > "$pwfile"
  # shellcheck disable=SC2086 # word splitting of POSTGRES_INITDB_ARGS is intended
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf '\\nhost all all all %s\\n' "\${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  psql_init() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"; }
  if [ "$POSTGRES_DB" != postgres ]; then
    echo 'CREATE DATABASE :"db";' | psql_init --dbname postgres --set db="$POSTGRES_DB" >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh) echo "$0: running $f"; . "$f" ;;
      *.sql) echo "$0: running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB" ;;
      *) echo "$0: ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
`;

// Debian's packages: postgresql-common first, so that its createcluster.conf can stop the
// postgresql package from creating the "main" cluster (as the official Debian-based image does);
// the server's binaries linked into /usr/local/bin (ahead of Debian's pg_wrapper in PATH); the
// sample config listening on every address; policy-rc.d so no service starts during the build.
const POSTGRES_INSTALL = `set -eu
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql-common > /dev/null
sed -ri 's/^#?(create_main_cluster) .*$/\\1 = false/' /etc/postgresql-common/createcluster.conf
apt-get install -y -qq --no-install-recommends postgresql > /dev/null
rm -rf /var/lib/apt/lists/*
ln -sf /usr/lib/postgresql/*/bin/* /usr/local/bin/
sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" /usr/share/postgresql/*/postgresql.conf.sample
mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql /var/lib/postgresql/data
chown postgres:postgres /var/run/postgresql /var/lib/postgresql/data
chmod 3777 /var/run/postgresql
chmod 700 /var/lib/postgresql/data`;

/**
 * A PostgreSQL image built from a Debian base (bookworm gives PostgreSQL 15) that follows the
 * official image's conventions: `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB`,
 * `POSTGRES_INITDB_ARGS`, `POSTGRES_HOST_AUTH_METHOD`, `PGDATA`, `/docker-entrypoint-initdb.d`
 * (`*.sql`, `*.sql.gz`, `*.sh`), the server as user postgres in the foreground, STOPSIGNAL
 * SIGINT. For machines without access to Docker Hub; the build apt-installs over the host's
 * network and is cached like any other. Unlike the official image it declares no VOLUME (the
 * data lives in the container's own layer unless you mount one).
 *
 * @example
 * ```ts
 * const image = Image.fromRootfs("/srv/debian-bookworm").with(postgresImageFromDebian);
 * await using db = await postgres({ image }).start();
 * ```
 */
export function postgresImageFromDebian(base: Image): Image {
  return base
    .run(POSTGRES_INSTALL, { env: { DEBIAN_FRONTEND: "noninteractive" } })
    .run(["/bin/sh", "-c", 'printf "%s" "$1" > /usr/local/bin/docker-entrypoint.sh && chmod 755 /usr/local/bin/docker-entrypoint.sh', "sh", POSTGRES_ENTRYPOINT])
    .env({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", PGDATA: "/var/lib/postgresql/data" })
    .expose(POSTGRES_PORT)
    .stopSignal("SIGINT")
    .entrypoint(["docker-entrypoint.sh"])
    .cmd(["postgres"]);
}
