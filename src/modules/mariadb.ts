/**
 * `bento/modules/mariadb`: a MariaDB server as a test fixture. {@link mariadb} gives a `Container`
 * configured with the official image's conventions (`MARIADB_ROOT_PASSWORD`, `MARIADB_USER`,
 * `MARIADB_PASSWORD`, `MARIADB_DATABASE`, `/docker-entrypoint-initdb.d`), {@link mariadbConnection}
 * the details a client needs, {@link mariadbImageFromDebian} an image with the same conventions
 * built from a Debian base, {@link mariadbDatabases} a fresh database per test and
 * {@link mariadbSnapshot} a warm server as an image.
 *
 * @packageDocumentation
 * @module bento/modules/mariadb
 */
// Containers build plans through the build engine, which installs itself when imported.
import "../builder/index.js";
import "../registry/store.js"; // installs the registry into the build engine (FROM pulls, archives)
import { Container } from "../container/container.js";
import type { ImageLike } from "../container/image-source.js";
import type { ContainerOptions } from "../container/options.js";
import { InvalidOptionError } from "../errors.js";
import type { Image } from "../image/image.js";
import { Wait } from "../wait/wait.js";
import { imageOf } from "./image-of.js";
import { MARIADB_PORT } from "./mariadb-connection.js";

export { MARIADB_PORT, mariadbConnection, type MariadbConnection } from "./mariadb-connection.js";

/**
 * The image {@link mariadb} runs by default (pulled as `BENTO_PULL_POLICY` allows).
 *
 * @example
 * ```ts
 * await Store.default().pull(MARIADB_IMAGE);
 * ```
 */
export const MARIADB_IMAGE = "docker.io/library/mariadb:11";

/**
 * `mariadbd` options {@link mariadb} puts before the caller's `args`: settings for throwaway test
 * servers, not crash-safe. No flush of the redo log at each commit
 * (`innodb-flush-log-at-trx-commit=0`), no doublewrite buffer, no binary log, a 32 MB buffer pool,
 * no reverse DNS lookups of clients (`skip-name-resolve`), and a 4 MB redo log (default 96 MB):
 * a server whose data directory comes from an image (a snapshot) opens its redo log for writing
 * as it starts, which copies the whole file from the image's layer into the container's own
 * files.
 *
 * @example
 * ```ts
 * mariadb({ args: ["--innodb-flush-log-at-trx-commit=1"] }); // durable commits for this server
 * ```
 */
export const MARIADB_TEST_ARGS: readonly string[] = Object.freeze(["--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--skip-log-bin", "--innodb-buffer-pool-size=32M", "--skip-name-resolve", "--innodb-log-file-size=4M"]);

/**
 * Options of {@link mariadb}.
 *
 * @example
 * ```ts
 * const options: MariadbOptions = { database: "app", user: "app", password: "secret" };
 * ```
 */
export interface MariadbOptions {
  /**
   * The image: a reference or an Image that follows the official image's conventions. Default
   * {@link MARIADB_IMAGE}; see {@link mariadbImageFromDebian} for one built locally.
   */
  image?: string | ImageLike;
  /** The database created at initialization (`MARIADB_DATABASE`); default "test". */
  database?: string;
  /** A user created at initialization with every privilege on `database` (`MARIADB_USER`); default "test". */
  user?: string;
  /** That user's password (`MARIADB_PASSWORD`); default "test". */
  password?: string;
  /** root's password (`MARIADB_ROOT_PASSWORD`); default "test". */
  rootPassword?: string;
  /**
   * SQL run once, when the server initializes an empty data directory, in `database` as root
   * (written to `/docker-entrypoint-initdb.d/bento-init.sql` by a build step over the image, so
   * it runs after the image's own init files whose names sort before it). A failing statement
   * fails the start, with the server's message in the StartupError's log lines.
   */
  initSql?: string;
  /** More `mariadbd` options, after {@link MARIADB_TEST_ARGS}. */
  args?: string[];
  /**
   * More container options (name, mounts, network, resources...). `env` is merged with the
   * variables above (these win). `ports` defaults to `[3306]`; `wait` to the final server's
   * "ready for connections" log line (the one that names port 3306: the initialization's
   * temporary server listens on no port).
   */
  container?: Omit<ContainerOptions, "command">;
}

const nameOption = (option: string, value: unknown): string => {
  if (typeof value !== "string" || value === "" || /[\0\n]/.test(value)) {
    throw new InvalidOptionError(`mariadb.${option}`, `expected a non-empty string without NUL or newline, got ${JSON.stringify(value)}`);
  }
  return value;
};

/**
 * A MariaDB server to start: a `Container` whose `start()` resolves once the final server (after
 * the initialization's temporary one) is ready for connections on port 3306, running with
 * {@link MARIADB_TEST_ARGS}.
 *
 * @example
 * ```ts
 * import { mariadb, mariadbConnection } from "bento/modules/mariadb";
 * import mysql from "mysql2/promise";
 *
 * await using db = await mariadb({ database: "shop" }).start();
 * const client = await mysql.createConnection({ uri: (await mariadbConnection(db)).url });
 * ```
 */
export function mariadb(options: MariadbOptions = {}): Container {
  const user = nameOption("user", options.user ?? "test");
  const password = nameOption("password", options.password ?? "test");
  const database = nameOption("database", options.database ?? "test");
  const rootPassword = nameOption("rootPassword", options.rootPassword ?? "test");
  if (user === "root") throw new InvalidOptionError("mariadb.user", 'root exists already; give another user name, and root\'s password as "rootPassword"');
  const args = options.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw new InvalidOptionError("mariadb.args", 'expected an array of strings, e.g. ["--max-connections=20"]');
  if (options.initSql !== undefined && typeof options.initSql !== "string") throw new InvalidOptionError("mariadb.initSql", "expected SQL text (a string)");
  let image = imageOf(options.image ?? MARIADB_IMAGE);
  if (options.initSql !== undefined) {
    // The SQL travels as an argument, so it needs no quoting and is part of the step's cache key.
    image = image.run(["/bin/sh", "-c", 'mkdir -p /docker-entrypoint-initdb.d && printf "%s\\n" "$1" > /docker-entrypoint-initdb.d/bento-init.sql', "sh", options.initSql]);
  }
  const extra = options.container ?? {};
  return new Container(image, {
    ports: [MARIADB_PORT],
    wait: Wait.forLog(new RegExp(`port: ${MARIADB_PORT}\\b`)),
    ...extra,
    command: ["mariadbd", ...MARIADB_TEST_ARGS, ...args],
    env: { ...extra.env, MARIADB_USER: user, MARIADB_PASSWORD: password, MARIADB_DATABASE: database, MARIADB_ROOT_PASSWORD: rootPassword },
  });
}

// A subset of the official image's docker-entrypoint.sh: as root it prepares the data and socket
// directories and re-runs itself as mysql (setpriv, util-linux); on an empty data directory it
// runs mariadb-install-db, starts a temporary server on the Unix socket only, sets root's
// password, creates the database and user, runs /docker-entrypoint-initdb.d, shuts it down, then
// execs the server. SQL values are escaped by doubling quotes (and backslashes) in sql_quote,
// and written with printf, since dash's echo would interpret the backslashes again.
const MARIADB_ENTRYPOINT = `#!/bin/sh
set -eu
case "\${1:-}" in -*) set -- mariadbd "$@" ;; esac
if [ "\${1:-}" != mariadbd ] && [ "\${1:-}" != mysqld ]; then exec "$@"; fi
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$DATADIR" /run/mysqld
  find "$DATADIR" /run/mysqld \\! -user mysql -exec chown mysql:mysql '{}' +
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi
sql_quote() { printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e "s/'/''/g"; }
BT="$(printf '\\140')"
ident_quote() { printf '%s%s%s' "$BT" "$(printf '%s' "$1" | sed "s/$BT/$BT$BT/g")" "$BT"; }
if [ ! -d "$DATADIR/mysql" ]; then
  ROOT_PASSWORD="\${MARIADB_ROOT_PASSWORD:-\${MYSQL_ROOT_PASSWORD:-}}"
  USER_NAME="\${MARIADB_USER:-\${MYSQL_USER:-}}"
  USER_PASSWORD="\${MARIADB_PASSWORD:-\${MYSQL_PASSWORD:-}}"
  DATABASE="\${MARIADB_DATABASE:-\${MYSQL_DATABASE:-}}"
  if [ -z "$ROOT_PASSWORD" ] && [ -z "\${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}" ]; then
    echo "error: the database is uninitialized and no root password is set: set MARIADB_ROOT_PASSWORD (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1)" >&2
    exit 1
  fi
  echo "$0: initializing $DATADIR"
  # The server's options go to mariadb-install-db too (as the official image passes them), so the
  # InnoDB files are made at the sizes the server runs with.
  install_db() { shift; mariadb-install-db --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal --skip-name-resolve "$@" > /dev/null; }
  install_db "$@"
  "$@" --skip-networking --socket="$SOCKET" --skip-log-bin &
  pid=$!
  tries=0
  until mariadb-admin --socket="$SOCKET" -uroot ping > /dev/null 2>&1; do
    if ! kill -0 "$pid" 2> /dev/null; then echo "error: the temporary server exited" >&2; exit 1; fi
    tries=$((tries + 1)); if [ "$tries" -gt 600 ]; then echo "error: the temporary server did not start" >&2; exit 1; fi
    sleep 0.1
  done
  sql() { mariadb --protocol=socket --socket="$SOCKET" -uroot --password="$ROOT_PASSWORD" "$@"; }
  rp="$(sql_quote "$ROOT_PASSWORD")"
  {
    printf '%s\\n' "SET @@SESSION.SQL_LOG_BIN=0;"
    printf '%s\\n' "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
    printf '%s\\n' "ALTER USER root@localhost IDENTIFIED BY '$rp';"
    printf '%s\\n' "CREATE USER root@'%' IDENTIFIED BY '$rp';"
    printf '%s\\n' "GRANT ALL ON *.* TO root@'%' WITH GRANT OPTION;"
    if [ -n "$DATABASE" ]; then printf '%s\\n' "CREATE DATABASE IF NOT EXISTS $(ident_quote "$DATABASE");"; fi
    if [ -n "$USER_NAME" ]; then
      printf '%s\\n' "CREATE USER '$(sql_quote "$USER_NAME")'@'%' IDENTIFIED BY '$(sql_quote "$USER_PASSWORD")';"
      if [ -n "$DATABASE" ]; then printf '%s\\n' "GRANT ALL ON $(ident_quote "$DATABASE").* TO '$(sql_quote "$USER_NAME")'@'%';"; fi
    fi
  } | mariadb --protocol=socket --socket="$SOCKET" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh) echo "$0: running $f"; . "$f" ;;
      *.sql) echo "$0: running $f"; sql \${DATABASE:+--database="$DATABASE"} < "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | sql \${DATABASE:+--database="$DATABASE"} ;;
      *) echo "$0: ignoring $f" ;;
    esac
  done
  kill "$pid"
  wait "$pid"
  echo "$0: MariaDB init process done. Ready for start up."
fi
exec "$@"
`;

const MARIADB_INSTALL = `set -eu
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends mariadb-server > /dev/null
rm -rf /var/lib/apt/lists/* /var/lib/mysql
mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d
chown mysql:mysql /var/lib/mysql /run/mysqld
printf '[mariadbd]\\nbind-address = 0.0.0.0\\nskip-host-cache\\n' > /etc/mysql/mariadb.conf.d/90-bento.cnf`;

/**
 * A MariaDB image built from a Debian base (bookworm gives MariaDB 10.11) that follows the
 * official image's conventions: `MARIADB_ROOT_PASSWORD` (or `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD`),
 * `MARIADB_USER`, `MARIADB_PASSWORD`, `MARIADB_DATABASE` (and their `MYSQL_*` names),
 * `/docker-entrypoint-initdb.d` (`*.sql`, `*.sql.gz`, `*.sh`), `mariadbd` as user mysql in the
 * foreground, listening on every address. For machines without access to Docker Hub; the build
 * apt-installs over the host's network and is cached like any other. Unlike the official image
 * it declares no VOLUME (the data lives in the container's own layer, so {@link mariadbSnapshot}
 * can commit it).
 *
 * @example
 * ```ts
 * const image = Image.fromRootfs("/srv/debian-bookworm").with(mariadbImageFromDebian);
 * await using db = await mariadb({ image }).start();
 * ```
 */
export function mariadbImageFromDebian(base: Image): Image {
  return base
    .run(MARIADB_INSTALL, { env: { DEBIAN_FRONTEND: "noninteractive" } })
    .run(["/bin/sh", "-c", 'printf "%s" "$1" > /usr/local/bin/docker-entrypoint.sh && chmod 755 /usr/local/bin/docker-entrypoint.sh', "sh", MARIADB_ENTRYPOINT])
    .env({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" })
    .expose(MARIADB_PORT)
    .entrypoint(["docker-entrypoint.sh"])
    .cmd(["mariadbd"]);
}

export { mariadbDatabases, MariadbDatabases, MariadbTemplateError, type MariadbDatabase, type MariadbServer, type MariadbTemplate } from "./mariadb-databases.js";
export { mariadbSnapshot } from "./mariadb-snapshot.js";
export type { SnapshotOptions } from "./server-snapshot.js";
export type { SqlTemplate } from "./sql-template.js";
