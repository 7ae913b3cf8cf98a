/**
 * `bento/modules/postgres`: a PostgreSQL server as a test fixture. {@link postgres} gives a
 * `Container` configured with the official image's conventions (`POSTGRES_USER`,
 * `POSTGRES_PASSWORD`, `POSTGRES_DB`, `/docker-entrypoint-initdb.d`), {@link postgresConnection}
 * the details a client needs, and {@link postgresImageFromDebian} an image with the same
 * conventions built from a Debian base, for machines that cannot pull the official image.
 * `postgres({ initAtBuild: true })` (or {@link preparedPostgresImage}) initializes the database
 * in a cached build step instead of at every start, so starts take a fraction of a second.
 *
 * @packageDocumentation
 * @module bento/modules/postgres
 */
// Containers build plans through the build engine, which installs itself when imported.
import "../builder/index.js";
import "../registry/store.js"; // installs the registry into the build engine (FROM pulls, archives)
import { Container } from "../container/container.js";
import type { ImageLike } from "../container/image-source.js";
import type { ContainerOptions } from "../container/options.js";
import { InvalidOptionError } from "../errors.js";
import type { Image } from "../image/image.js";
import { imageOf } from "./image-of.js";
import { PostgresReadyWait } from "./postgres-ready.js";
import { POSTGRES_TEST_INITDB_ARGS, POSTGRES_TEST_SETTINGS } from "./postgres-settings.js";
import { POSTGRES_MEMORY_DIR, POSTGRES_PORT } from "./postgres-connection.js";

export { POSTGRES_MEMORY_DIR, POSTGRES_PORT, postgresConnection, type PostgresConnection } from "./postgres-connection.js";

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
   * Initialize the database while building the image instead of at every start (default false):
   * the image becomes {@link preparedPostgresImage} of `image` with this user, password, database,
   * init SQL and the `POSTGRES_INITDB_ARGS` / `POSTGRES_HOST_AUTH_METHOD` of `container.env`, a
   * cached build step, so each start only launches the server (well under a second instead of
   * about two). Each container still writes to its own copy of the data directory (the image's
   * layers are read-only), so containers from it never see each other's writes. Init SQL that
   * fails now fails the build: `start()` throws a `StartupError` of phase "build" whose `cause` is
   * the `BuildStepError` with the server's output.
   */
  initAtBuild?: boolean;
  /**
   * Mount a tmpfs owned by the image's `postgres` user at {@link POSTGRES_MEMORY_DIR} (default
   * true), where `postgresDatabases` keeps its template and clones: a database per test is then a
   * copy in memory. Set false for an image without a `postgres` user (the start names it).
   */
  memoryTablespace?: boolean;
  /**
   * More container options (name, mounts, network, resources...). `env` is merged with the
   * variables above (these win); `POSTGRES_INITDB_ARGS` gets `--auth-host=scram-sha-256` first
   * (or `POSTGRES_HOST_AUTH_METHOD`'s value), so TCP clients need the password even from
   * loopback, where bento's port proxy connects from, then {@link POSTGRES_TEST_INITDB_ARGS}. `ports` defaults to `[5432]`; `wait` to
   * a `SELECT 1` through the published port ({@link PostgresReadyWait}); `command` to `postgres`
   * with {@link POSTGRES_TEST_SETTINGS} (fsync off: fast, not crash-safe).
   */
  container?: ContainerOptions;
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
 * is a query over TCP, which only the final server answers. The server runs with
 * {@link POSTGRES_TEST_SETTINGS}: made for tests, not crash-safe. The container also mounts a
 * tmpfs owned by the image's `postgres` user at {@link POSTGRES_MEMORY_DIR}, where
 * `postgresDatabases` keeps its template and clones (`memoryTablespace: false` leaves it out).
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
  if (options.initSql !== undefined && typeof options.initSql !== "string") throw new InvalidOptionError("postgres.initSql", "expected SQL text (a string)");
  if (options.memoryTablespace !== undefined && typeof options.memoryTablespace !== "boolean") throw new InvalidOptionError("postgres.memoryTablespace", `expected true or false, got ${JSON.stringify(options.memoryTablespace)}`);
  if (options.initAtBuild !== undefined && typeof options.initAtBuild !== "boolean") throw new InvalidOptionError("postgres.initAtBuild", `expected true or false, got ${JSON.stringify(options.initAtBuild)}`);
  const extra = options.container ?? {};
  const ownMemoryMount = (extra.mounts ?? []).some((m) => typeof m === "object" && "tmpfs" in m && m.tmpfs === POSTGRES_MEMORY_DIR);
  const withMemoryTablespace = options.memoryTablespace !== false && !ownMemoryMount;
  // Published ports reach the server from 127.0.0.1 inside the container (bento's port proxy),
  // which initdb trusts by default; in Docker they come from the bridge and need the password.
  // Asking for it on every TCP connection keeps Docker's behaviour (the Unix socket stays trusted).
  const authHost = `--auth-host=${extra.env?.POSTGRES_HOST_AUTH_METHOD ?? "scram-sha-256"}`;
  const initdbArgs = [authHost, ...POSTGRES_TEST_INITDB_ARGS, extra.env?.POSTGRES_INITDB_ARGS].filter(Boolean).join(" ");
  if (options.initAtBuild === true) {
    image = preparedPostgresImage(image, {
      user,
      password,
      database,
      initSql: options.initSql,
      initdbArgs,
      hostAuthMethod: extra.env?.POSTGRES_HOST_AUTH_METHOD,
    });
  } else if (options.initSql !== undefined) {
    // The SQL travels as an argument, so it needs no quoting and is part of the step's cache key.
    image = image.run(["/bin/sh", "-c", 'mkdir -p /docker-entrypoint-initdb.d && printf "%s\\n" "$1" > /docker-entrypoint-initdb.d/bento-init.sql', "sh", options.initSql]);
  }
  return new Container(image, {
    ports: [POSTGRES_PORT],
    command: ["postgres", ...POSTGRES_TEST_SETTINGS.flatMap((setting) => ["-c", setting])],
    wait: new PostgresReadyWait({ port: POSTGRES_PORT, user, password, database }),
    // An initialized data directory needs none of the entrypoint script's work (a shell, a find
    // over PGDATA, a setpriv): the server starts directly as postgres.
    ...(options.initAtBuild === true ? { entrypoint: [], user: "postgres" } : {}),
    ...extra,
    // Where postgresDatabases() keeps its templates and clones (see POSTGRES_MEMORY_DIR); a mount
    // of the caller's own at that path wins.
    mounts: [...(extra.mounts ?? []), ...(withMemoryTablespace ? [{ tmpfs: POSTGRES_MEMORY_DIR, owner: "postgres", mode: 0o700 }] : [])],
    env: { ...extra.env, POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: database, POSTGRES_INITDB_ARGS: initdbArgs },
  });
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

/**
 * Where {@link preparedPostgresImage} puts the initialized data directory (its `PGDATA`). It is
 * outside the official images' `VOLUME` (`/var/lib/postgresql/data`, or `/var/lib/postgresql`
 * from PostgreSQL 18), so a container reads it copy-on-write from the image's layers instead of
 * copying it into an anonymous volume first.
 *
 * @example
 * ```ts
 * await running.exec(["ls", `${PREPARED_PGDATA}/base`]);
 * ```
 */
export const PREPARED_PGDATA = "/var/lib/postgresql-prepared/data";

/**
 * Options of {@link preparedPostgresImage}. The container that runs the image must get the same
 * user, password and database in its environment ({@link postgres} with `initAtBuild: true` does
 * that), since clients and `postgresConnection` read them from there.
 *
 * @example
 * ```ts
 * const options: PreparedPostgresImageOptions = { user: "app", password: "secret", database: "app", initSql: "CREATE TABLE t (id int)" };
 * ```
 */
export interface PreparedPostgresImageOptions {
  /** The superuser (`POSTGRES_USER`); default "test". */
  user?: string;
  /** Its password (`POSTGRES_PASSWORD`); default "test". Must not be empty. */
  password?: string;
  /** The database (`POSTGRES_DB`); default "test". */
  database?: string;
  /** SQL run once in `database` as `user`, after the image's own init files (as `bento-init.sql`). */
  initSql?: string;
  /**
   * `POSTGRES_INITDB_ARGS` for the build's initdb; default `--auth-host=scram-sha-256` (the
   * password is needed on every TCP connection, as {@link postgres} sets up) and
   * {@link POSTGRES_TEST_INITDB_ARGS}.
   */
  initdbArgs?: string;
  /** `POSTGRES_HOST_AUTH_METHOD` for the build's init (the image's default when not given). */
  hostAuthMethod?: string;
}

// One build step: write the init SQL, run the image's own entrypoint with `postgres` in the
// background (it initializes the empty PGDATA, runs the init files through its temporary server,
// stops it, then execs the final server in its own process), wait until that final server (the
// process whose pid postmaster.pid names) answers on its socket, and stop it with SIGINT (fast
// shutdown: a checkpoint, then postmaster.pid is removed). A failing init makes the entrypoint
// exit, which fails the step with the server's messages in its output.
const PREPARE_SCRIPT = String.raw`set -eu
export POSTGRES_USER="$1" POSTGRES_PASSWORD="$2" POSTGRES_DB="$3" POSTGRES_INITDB_ARGS="$4"
if [ -n "$5" ]; then export POSTGRES_HOST_AUTH_METHOD="$5"; fi
if [ "$6" = 1 ]; then mkdir -p /docker-entrypoint-initdb.d && printf '%s\n' "$7" > /docker-entrypoint-initdb.d/bento-init.sql; fi
if [ -e "$PGDATA/PG_VERSION" ]; then echo "bento: $PGDATA is already initialized in the base image" >&2; exit 1; fi
docker-entrypoint.sh postgres &
pid=$!
alive() { [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; }
tries=0
until [ "$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true)" = "$pid" ] && pg_isready -q -h /var/run/postgresql -p 5432; do
  if ! alive; then
    status=0; wait "$pid" || status=$?
    echo "bento: docker-entrypoint.sh exited with status $status before its server started" >&2
    exit 1
  fi
  tries=$((tries + 1))
  if [ "$tries" -gt 6000 ]; then echo "bento: the server did not start within 10 minutes" >&2; kill -INT "$pid"; exit 1; fi
  sleep 0.1
done
kill -INT "$pid"
status=0; wait "$pid" || status=$?
if [ "$status" != 0 ] || [ -e "$PGDATA/postmaster.pid" ]; then echo "bento: the server did not shut down cleanly (status $status)" >&2; exit 1; fi
echo "bento: PostgreSQL initialized in $PGDATA at build time"
`;

/**
 * An image whose data directory is already initialized: a cached build step over `image` runs
 * the image's own initialization once (initdb with the user, password, auth settings, the
 * database, the `/docker-entrypoint-initdb.d` files and `initSql`, through its temporary server),
 * starts its final server and shuts it down cleanly. Containers from it skip the init and start
 * the server directly (ready in a fraction of a second), each writing to its own copy-on-write
 * copy of the data directory. {@link postgres} with `initAtBuild: true` uses it.
 *
 * What it relies on, which both the official images (`postgres:*`, Debian and Alpine) and
 * {@link postgresImageFromDebian} provide: `docker-entrypoint.sh` on `PATH`, which, given
 * `postgres` as root, initializes an empty `PGDATA` from the `POSTGRES_*` variables, runs the init
 * files, stops its temporary server and then `exec`s the server (so it keeps the entrypoint's
 * pid, which the server writes on the first line of `postmaster.pid`), and skips initialization
 * when `PGDATA/PG_VERSION` exists; `pg_isready`, `head`, `grep` and `sleep` on `PATH`; the server
 * socket in `/var/run/postgresql`, port 5432; SIGINT as fast shutdown. `PGDATA` becomes
 * {@link PREPARED_PGDATA}. The step runs without network (its own loopback only), and an init
 * failure fails it (a `BuildStepError` with the server's output).
 *
 * @example
 * ```ts
 * const image = preparedPostgresImage(Image.fromRootfs("/srv/debian-bookworm").with(postgresImageFromDebian), { user: "app", initSql: "CREATE TABLE t (id int)" });
 * await using db = await postgres({ image, user: "app" }).start(); // no initdb at start
 * ```
 */
export function preparedPostgresImage(image: string | ImageLike, options: PreparedPostgresImageOptions = {}): Image {
  const user = nameOption("user", options.user ?? "test");
  const password = nameOption("password", options.password ?? "test");
  const database = nameOption("database", options.database ?? "test");
  const { initSql, initdbArgs = ["--auth-host=scram-sha-256", ...POSTGRES_TEST_INITDB_ARGS].join(" "), hostAuthMethod = "" } = options;
  if (initSql !== undefined && typeof initSql !== "string") throw new InvalidOptionError("postgres.initSql", "expected SQL text (a string)");
  if (typeof initdbArgs !== "string") throw new InvalidOptionError("postgres.initdbArgs", "expected a string");
  if (typeof hostAuthMethod !== "string") throw new InvalidOptionError("postgres.hostAuthMethod", "expected a string");
  // Every value travels as an argument, so it needs no quoting and is part of the step's cache key.
  return imageOf(image)
    .env({ PGDATA: PREPARED_PGDATA })
    .run(["/bin/sh", "-c", PREPARE_SCRIPT, "sh", user, password, database, initdbArgs, hostAuthMethod, initSql === undefined ? "0" : "1", initSql ?? ""], { network: "none" });
}

export { PostgresDatabases, PostgresTemplateError, postgresDatabases, type PostgresDatabase, type PostgresServer, type PostgresTemplate } from "./postgres-databases.js";
export { POSTGRES_TEST_INITDB_ARGS, POSTGRES_TEST_SETTINGS } from "./postgres-settings.js";
export { PostgresReadyWait, type PostgresReadyOptions } from "./postgres-ready.js";
export { postgresSnapshot } from "./postgres-snapshot.js";
export type { SnapshotOptions } from "./server-snapshot.js";
export type { SqlTemplate } from "./sql-template.js";
