/**
 * A fresh PostgreSQL database per test, from one running server: the schema and seed data go
 * into a template database once (per server and template content), and every test gets a clone
 * of it (`CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY`, a file copy of a few megabytes
 * instead of replaying the migrations), dropped when the test ends. The approach is pgtestdb's
 * (Go); the template is built under an advisory lock, so vitest workers in several processes that
 * share one server build it once.
 */
import { randomBytes } from "node:crypto";
import type { RunningContainer } from "../container/running-container.js";
import { BentoError, InvalidOptionError } from "../errors.js";
import { POSTGRES_MEMORY_DIR, postgresConnection, type PostgresConnection } from "./postgres-connection.js";
import { PostgresServerError, PostgresWireClient, quoteIdent, quoteLiteral } from "./postgres-wire.js";
import { failedStatement, splitSqlStatements } from "./sql-statements.js";
import { readTemplate, SqlTemplateError, type SqlTemplate, type TemplateParts } from "./sql-template.js";

/**
 * What every database of {@link postgresDatabases} starts with. Each part runs once, in this
 * order, in the template database: `initSql`, the `migrations` files, then `setup`.
 *
 * @example
 * ```ts
 * const template: PostgresTemplate = { migrations: "db/migrations", initSql: "INSERT INTO plans VALUES ('free')" };
 * ```
 */
export type PostgresTemplate = SqlTemplate<PostgresConnection>;

/**
 * One database of {@link PostgresDatabases.create}: its connection details (`url` names it), and
 * `drop()` (or `await using`) to remove it.
 *
 * @example
 * ```ts
 * await using db = await databases.create();
 * const client = new pg.Client(db.url);
 * ```
 */
export interface PostgresDatabase extends PostgresConnection, AsyncDisposable {
  /** Drops the database, closing the connections still open to it (PostgreSQL 13+). */
  drop(): Promise<void>;
}

/**
 * A statement of the template failed: which source, which statement and line, and the server's
 * message. The template database was dropped again.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof PostgresTemplateError) console.log(e.source, e.line, e.statement, e.serverMessage); }
 * ```
 */
export class PostgresTemplateError extends SqlTemplateError {
  constructor(source: string, statement: string | undefined, line: number | undefined, serverMessage: string, cause: unknown) {
    super("ERR_POSTGRES_TEMPLATE", "postgres", source, statement, line, serverMessage, cause);
  }
}

/** The server: a running container (read with postgresConnection), or connection details. */
export type PostgresServer = RunningContainer | PostgresConnection;

/** The prefix of every database this module creates, so leftovers are recognisable. */
const templatePrefix = "bento_template_";
const databasePrefix = "bento_db_";

/** One administrative session per server and process; queries on it run one at a time. */
const admins = new Map<string, Promise<PostgresWireClient>>();
/** Templates known to exist, per server. */
const readyTemplates = new Map<string, Promise<void>>();

function serverKey(c: PostgresConnection): string {
  return `${c.host}\0${c.port}\0${c.user}`;
}

function urlOf(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.href;
}

/** The server's details with another database in them. */
function withDatabase(c: PostgresConnection, database: string): PostgresConnection {
  return { ...c, database, url: urlOf(c.url, database), ...(c.networkUrl === undefined ? {} : { networkUrl: urlOf(c.networkUrl, database) }) };
}

async function adminFor(connection: PostgresConnection): Promise<PostgresWireClient> {
  const key = serverKey(connection);
  let pending = admins.get(key);
  if (pending === undefined) {
    pending = PostgresWireClient.connect(connection);
    admins.set(key, pending);
    // A session that failed (the server stopped or restarted) is replaced at the next call.
    pending.then(
      (client) => client.closed.then(() => admins.get(key) === pending && admins.delete(key)),
      () => admins.get(key) === pending && admins.delete(key),
    );
  }
  return pending;
}

/** Runs one SQL source in the template; a failure names the statement. */
async function runSource(client: PostgresWireClient, source: string, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    if (!(error instanceof PostgresServerError)) throw error;
    const statement = failedStatement(splitSqlStatements(sql), error.position, error.completedStatements);
    throw new PostgresTemplateError(source, statement?.text, statement?.line, error.serverMessage, error);
  }
}

/** The tablespace on the postgres module's tmpfs (POSTGRES_MEMORY_DIR). */
const memoryTablespace = "bento_memory";

/**
 * Whether the server has a working `bento_memory` tablespace, made here when it can be: on a
 * `postgres()` container, whose tmpfs at POSTGRES_MEMORY_DIR makes a clone a copy in memory (on
 * this machine's disk the same CREATE DATABASE took 35-45 ms, in memory 8 ms). Elsewhere (another
 * server, a user without the right to create tablespaces) templates stay in the default one.
 * A tmpfs starts empty: after the server restarted (a snapshot, a stopped container started
 * again) the catalog still names the tablespace but its directory is gone, so the databases in it
 * are dropped and it is made again.
 */
async function memoryTablespaceOf(admin: PostgresWireClient): Promise<boolean> {
  const lock = `hashtext(${quoteLiteral(memoryTablespace)})`;
  await admin.query(`SELECT pg_advisory_lock(${lock})`);
  try {
    return await makeMemoryTablespace(admin);
  } catch (error) {
    if (error instanceof PostgresServerError) return false; // no such directory, or not a superuser
    throw error;
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(${lock})`).catch(() => undefined);
  }
}

async function makeMemoryTablespace(admin: PostgresWireClient): Promise<boolean> {
  const [[healthy] = []] = await admin.query(`SELECT pg_tablespace_size(oid) IS NOT NULL FROM pg_tablespace WHERE spcname = ${quoteLiteral(memoryTablespace)}`);
  if (healthy === "t") return true;
  if (healthy === "f") {
    const lost = await admin.query(`SELECT d.datname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE t.spcname = ${quoteLiteral(memoryTablespace)}`);
    for (const [db] of lost) {
      await admin.query(`ALTER DATABASE ${quoteIdent(db!)} WITH IS_TEMPLATE false`);
      await admin.query(`DROP DATABASE ${quoteIdent(db!)}`);
    }
    await admin.query(`DROP TABLESPACE ${quoteIdent(memoryTablespace)}`);
  }
  await admin.query(`CREATE TABLESPACE ${quoteIdent(memoryTablespace)} LOCATION ${quoteLiteral(POSTGRES_MEMORY_DIR)}`);
  return true;
}

async function buildTemplate(admin: PostgresWireClient, server: PostgresConnection, name: string, parts: TemplateParts<PostgresConnection>): Promise<void> {
  const inMemory = await memoryTablespaceOf(admin);
  const disconnectOthers = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${quoteLiteral(name)} AND pid <> pg_backend_pid()`;
  await admin.query(`SELECT pg_advisory_lock(hashtext(${quoteLiteral(name)}))`);
  try {
    const [[isTemplate] = []] = await admin.query(`SELECT datistemplate FROM pg_database WHERE datname = ${quoteLiteral(name)}`);
    if (isTemplate === "t") return;
    // Left by a build whose process died before it finished.
    if (isTemplate === "f") await admin.query(`DROP DATABASE ${quoteIdent(name)}`);
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}${inMemory ? ` TABLESPACE ${quoteIdent(memoryTablespace)}` : ""}`);
    try {
      const database = withDatabase(server, name);
      const client = await PostgresWireClient.connect(database);
      try {
        if (parts.initSql !== undefined) await runSource(client, "initSql", parts.initSql);
        for (const file of parts.migrations) await runSource(client, file.path, file.sql);
      } finally {
        await client.close();
      }
      if (parts.setup) {
        try {
          await parts.setup(Object.freeze(database));
        } catch (error) {
          throw new PostgresTemplateError("setup", undefined, undefined, (error as Error)?.message ?? String(error), error);
        }
      }
      // A clone needs a template nobody is connected to.
      await admin.query(disconnectOthers);
      await admin.query(`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    } catch (error) {
      await admin.query(disconnectOthers).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => undefined);
      throw error;
    }
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(hashtext(${quoteLiteral(name)}))`).catch(() => undefined);
  }
}

/**
 * Fresh databases on one PostgreSQL server, each a copy of a template. Made by
 * {@link postgresDatabases}; `create()` gives one database.
 *
 * @example
 * ```ts
 * const databases = postgresDatabases(server, { migrations: "db/migrations" });
 * await using db = await databases.create(); // db.url: postgresql://test:test@127.0.0.1:41234/bento_db_3f2a...
 * ```
 */
export class PostgresDatabases {
  private readonly parts: TemplateParts<PostgresConnection>;

  /** @internal Use {@link postgresDatabases}. */
  constructor(
    private readonly server: PostgresServer | (() => PostgresServer),
    template: PostgresTemplate,
  ) {
    if (typeof server !== "function" && (typeof server !== "object" || server === null)) {
      throw new InvalidOptionError("postgresDatabases.server", "expected a running postgres container, its postgresConnection(), or a function that returns one");
    }
    this.parts = readTemplate("postgresDatabases", template);
    Object.freeze(this);
  }

  /** The name of the template database (on the server) the clones are made from. */
  get templateName(): string {
    return `${templatePrefix}${this.parts.hash.slice(0, 32)}`;
  }

  private async connection(): Promise<PostgresConnection> {
    const server = typeof this.server === "function" ? this.server() : this.server;
    if (typeof (server as RunningContainer).inspect === "function") {
      // Loaded on use: postgres.js re-exports this module.
      return postgresConnection(server as RunningContainer);
    }
    const c = server as PostgresConnection;
    if (typeof c.host !== "string" || !Number.isInteger(c.port) || typeof c.user !== "string" || typeof c.url !== "string") {
      throw new InvalidOptionError("postgresDatabases.server", "expected a running postgres container or its postgresConnection() (host, port, user, password, database, url)");
    }
    return c;
  }

  /**
   * Makes the template if the server does not have it yet (once per server, even across
   * processes); `create()` does it on first use. Call it in a `beforeAll` to keep the first
   * test's time down, or to fail early on a migration error.
   *
   * @example
   * ```ts
   * beforeAll(() => databases.prepare());
   * ```
   */
  async prepare(): Promise<void> {
    const server = await this.connection();
    const key = `${serverKey(server)}\0${this.templateName}`;
    let ready = readyTemplates.get(key);
    if (ready === undefined) {
      ready = adminFor(server).then((admin) => buildTemplate(admin, server, this.templateName, this.parts));
      readyTemplates.set(key, ready);
      ready.catch(() => readyTemplates.delete(key));
    }
    await ready;
  }

  /**
   * A new database, a copy of the template (its schema and rows), owned by the server's user.
   * Other databases never see its writes. Drop it with `drop()` or `await using`.
   *
   * @example
   * ```ts
   * await using db = await databases.create();
   * await client.connect(db.url);
   * ```
   */
  async create(): Promise<PostgresDatabase> {
    const error = new BentoError("ERR_POSTGRES", "");
    await this.prepare();
    const server = await this.connection();
    const admin = await adminFor(server);
    const name = `${databasePrefix}${randomBytes(8).toString("hex")}`;
    // FILE_COPY (PostgreSQL 15+) copies the template's files and checkpoints, instead of
    // WAL-logging every block (WAL_LOG, the default): several times faster for small databases.
    const strategy = admin.serverVersionNum >= 150000 ? " STRATEGY FILE_COPY" : "";
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(this.templateName)}${strategy}`);
    } catch (cause) {
      error.message = `postgres: create database ${name} from ${this.templateName}: ${(cause as Error).message}`;
      Object.assign(error, { cause });
      throw error;
    }
    const force = admin.serverVersionNum >= 130000 ? " WITH (FORCE)" : "";
    let dropped: Promise<void> | undefined;
    const drop = () => (dropped ??= admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`).then(() => undefined));
    return Object.freeze({ ...withDatabase(server, name), drop, [Symbol.asyncDispose]: drop });
  }
}

/**
 * Fresh databases on a running PostgreSQL server, each a clone of a template that holds the
 * schema and seed data (`initSql`, a `migrations` folder, a `setup` function). No I/O until
 * `create()` or `prepare()`; the migration files are read now. The server may be given as a
 * function, read at each `create()`, for fixtures that start later (`useContainer(..., { scope: "file" })`).
 * A failing statement fails `prepare()`/`create()` with a {@link PostgresTemplateError} naming
 * it, and leaves no database behind.
 *
 * @example
 * ```ts
 * import { postgres, postgresDatabases } from "bento/modules/postgres";
 * import { useContainer, useDatabase } from "bento/vitest";
 *
 * const server = useContainer(postgres({ initAtBuild: true }), { scope: "file" });
 * const databases = postgresDatabases(() => server.current, { migrations: "db/migrations" });
 * it("starts empty", async () => {
 *   const db = await useDatabase(databases); // dropped when the test ends
 *   // new pg.Client(db.url) ...
 * });
 * ```
 */
export function postgresDatabases(server: PostgresServer | (() => PostgresServer), template: PostgresTemplate = {}): PostgresDatabases {
  return new PostgresDatabases(server, template);
}
