/**
 * A fresh MariaDB database per test, from one running server. MariaDB has no `CREATE DATABASE
 * ... TEMPLATE`, so the template database is built once (per server and template content) and
 * each clone replays its tables' `SHOW CREATE TABLE` text and copies their rows
 * (`INSERT ... SELECT`), in one multi-statement round trip. Tables (with their indexes, foreign
 * keys and rows) are copied; views, routines, triggers and events are not.
 */
import { randomBytes } from "node:crypto";
import type { RunningContainer } from "../container/running-container.js";
import { BentoError, InvalidOptionError } from "../errors.js";
import { mariadbConnection, type MariadbConnection } from "./mariadb-connection.js";
import { MysqlServerError, MysqlWireClient, quoteMysqlIdent, quoteMysqlLiteral } from "./mysql-wire.js";
import { failedStatement, splitSqlStatements } from "./sql-statements.js";
import { readTemplate, SqlTemplateError, type SqlTemplate, type TemplateParts } from "./sql-template.js";

/**
 * What every database of {@link mariadbDatabases} starts with: `initSql`, the `migrations`
 * files, then `setup`, run once in the template database as root.
 *
 * @example
 * ```ts
 * const template: MariadbTemplate = { migrations: "db/migrations" };
 * ```
 */
export type MariadbTemplate = SqlTemplate<MariadbConnection>;

/**
 * One database of {@link MariadbDatabases.create}: its connection details (`url` names it,
 * for the server's user, who has every privilege on it), and `drop()` (or `await using`).
 *
 * @example
 * ```ts
 * await using db = await databases.create();
 * const client = await mysql.createConnection({ uri: db.url });
 * ```
 */
export interface MariadbDatabase extends MariadbConnection, AsyncDisposable {
  /** Drops the database. */
  drop(): Promise<void>;
}

/**
 * A statement of the template failed: which source, which statement and line, and the server's
 * message. The template database was dropped again.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof MariadbTemplateError) console.log(e.source, e.line, e.statement, e.serverMessage); }
 * ```
 */
export class MariadbTemplateError extends SqlTemplateError {
  constructor(source: string, statement: string | undefined, line: number | undefined, serverMessage: string, cause: unknown) {
    super("ERR_MARIADB_TEMPLATE", "mariadb", source, statement, line, serverMessage, cause);
  }
}

/** The server: a running container (read with mariadbConnection), or connection details. */
export type MariadbServer = RunningContainer | MariadbConnection;

const readyComment = "bento template: ready";
const admins = new Map<string, Promise<MysqlWireClient>>();
/** Per server and template: the statements that make a clone's tables and rows. */
const cloneScripts = new Map<string, Promise<string[]>>();

function serverKey(c: MariadbConnection): string {
  return `${c.host}\0${c.port}`;
}

function withDatabase(c: MariadbConnection, database: string): MariadbConnection {
  const url = new URL(c.url);
  url.pathname = `/${encodeURIComponent(database)}`;
  const networkUrl = new URL(c.networkUrl);
  networkUrl.pathname = `/${encodeURIComponent(database)}`;
  return { ...c, database, url: url.href, networkUrl: networkUrl.href };
}

function rootOptions(c: MariadbConnection, database?: string) {
  return { host: c.host, port: c.port, user: "root", password: c.rootPassword, ...(database ? { database } : {}) };
}

async function adminFor(c: MariadbConnection): Promise<MysqlWireClient> {
  const key = serverKey(c);
  let pending = admins.get(key);
  if (pending === undefined) {
    pending = MysqlWireClient.connect(rootOptions(c));
    admins.set(key, pending);
    pending.then(
      (client) => client.closed.then(() => admins.get(key) === pending && admins.delete(key)),
      () => admins.get(key) === pending && admins.delete(key),
    );
  }
  return pending;
}

async function runSource(client: MysqlWireClient, source: string, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    if (!(error instanceof MysqlServerError)) throw error;
    const statement = failedStatement(splitSqlStatements(sql), undefined, error.completedStatements);
    throw new MariadbTemplateError(source, statement?.text, statement?.line, error.serverMessage, error);
  }
}

/** Builds the template if the server lacks it; returns the statements that make a clone's tables. */
async function buildTemplate(admin: MysqlWireClient, server: MariadbConnection, name: string, parts: TemplateParts<MariadbConnection>): Promise<string[]> {
  const lock = quoteMysqlLiteral(name);
  await admin.query(`SELECT GET_LOCK(${lock}, 600)`);
  try {
    const [[comment] = []] = await admin.query(`SELECT schema_comment FROM information_schema.schemata WHERE schema_name = ${quoteMysqlLiteral(name)}`);
    if (comment !== readyComment) {
      // Absent, or left by a build whose process died before it finished.
      await admin.query(`DROP DATABASE IF EXISTS ${quoteMysqlIdent(name)}; CREATE DATABASE ${quoteMysqlIdent(name)}`);
      try {
        const client = await MysqlWireClient.connect(rootOptions(server, name));
        try {
          if (parts.initSql !== undefined) await runSource(client, "initSql", parts.initSql);
          for (const file of parts.migrations) await runSource(client, file.path, file.sql);
        } finally {
          await client.close();
        }
        if (parts.setup) {
          try {
            await parts.setup(Object.freeze({ ...withDatabase(server, name), user: "root", password: server.rootPassword }));
          } catch (error) {
            throw new MariadbTemplateError("setup", undefined, undefined, (error as Error)?.message ?? String(error), error);
          }
        }
        await admin.query(`ALTER DATABASE ${quoteMysqlIdent(name)} COMMENT ${quoteMysqlLiteral(readyComment)}`);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteMysqlIdent(name)}`).catch(() => undefined);
        throw error;
      }
    }
    const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteMysqlLiteral(name)} AND table_type = 'BASE TABLE' ORDER BY table_name`);
    const script: string[] = [];
    for (const [table] of tables) {
      const ident = `${quoteMysqlIdent(name)}.${quoteMysqlIdent(table!)}`;
      const [[, create] = []] = await admin.query(`SHOW CREATE TABLE ${ident}`);
      const [[rows] = []] = await admin.query(`SELECT EXISTS (SELECT 1 FROM ${ident})`);
      script.push(create!);
      if (rows === "1") script.push(`INSERT INTO ${quoteMysqlIdent(table!)} SELECT * FROM ${ident}`);
    }
    return script;
  } finally {
    await admin.query(`SELECT RELEASE_LOCK(${lock})`).catch(() => undefined);
  }
}

/**
 * Fresh databases on one MariaDB server, each a copy of a template's tables and rows. Made by
 * {@link mariadbDatabases}.
 *
 * @example
 * ```ts
 * const databases = mariadbDatabases(server, { migrations: "db/migrations" });
 * await using db = await databases.create();
 * ```
 */
export class MariadbDatabases {
  private readonly parts: TemplateParts<MariadbConnection>;

  /** @internal Use {@link mariadbDatabases}. */
  constructor(
    private readonly server: MariadbServer | (() => MariadbServer),
    template: MariadbTemplate,
  ) {
    if (typeof server !== "function" && (typeof server !== "object" || server === null)) {
      throw new InvalidOptionError("mariadbDatabases.server", "expected a running mariadb container, its mariadbConnection(), or a function that returns one");
    }
    this.parts = readTemplate("mariadbDatabases", template);
    Object.freeze(this);
  }

  /** The name of the template database on the server. */
  get templateName(): string {
    return `bento_template_${this.parts.hash.slice(0, 32)}`;
  }

  private async connection(): Promise<MariadbConnection> {
    const server = typeof this.server === "function" ? this.server() : this.server;
    if (typeof (server as RunningContainer).inspect === "function") {
      // Loaded on use: mariadb.js re-exports this module.
      return mariadbConnection(server as RunningContainer);
    }
    const c = server as MariadbConnection;
    if (typeof c.host !== "string" || !Number.isInteger(c.port) || typeof c.rootPassword !== "string" || typeof c.url !== "string") {
      throw new InvalidOptionError("mariadbDatabases.server", "expected a running mariadb container or its mariadbConnection() (host, port, user, password, rootPassword, url)");
    }
    return c;
  }

  private async cloneScript(server: MariadbConnection): Promise<string[]> {
    const key = `${serverKey(server)}\0${this.templateName}`;
    let script = cloneScripts.get(key);
    if (script === undefined) {
      script = adminFor(server).then((admin) => buildTemplate(admin, server, this.templateName, this.parts));
      cloneScripts.set(key, script);
      script.catch(() => cloneScripts.delete(key));
    }
    return script;
  }

  /**
   * Makes the template if the server does not have it yet (once per server, even across
   * processes); `create()` does it on first use.
   *
   * @example
   * ```ts
   * beforeAll(() => databases.prepare());
   * ```
   */
  async prepare(): Promise<void> {
    await this.cloneScript(await this.connection());
  }

  /**
   * A new database with the template's tables and rows; the server's user gets every privilege
   * on it. Drop it with `drop()` or `await using`.
   *
   * @example
   * ```ts
   * await using db = await databases.create();
   * ```
   */
  async create(): Promise<MariadbDatabase> {
    const error = new BentoError("ERR_MYSQL", "");
    const server = await this.connection();
    const script = await this.cloneScript(server);
    const admin = await adminFor(server);
    const name = `bento_db_${randomBytes(8).toString("hex")}`;
    const db = quoteMysqlIdent(name);
    const grant = server.user === "root" ? [] : [`GRANT ALL ON ${db}.* TO ${quoteMysqlLiteral(server.user)}@'%'`];
    try {
      await admin.query([`CREATE DATABASE ${db}`, `USE ${db}`, "SET FOREIGN_KEY_CHECKS = 0", ...script, "SET FOREIGN_KEY_CHECKS = 1", ...grant].join(";\n"));
    } catch (cause) {
      await admin.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
      error.message = `mariadb: create database ${name} from ${this.templateName}: ${(cause as Error).message}`;
      Object.assign(error, { cause });
      throw error;
    }
    let dropped: Promise<void> | undefined;
    const drop = () => (dropped ??= admin.query(`DROP DATABASE IF EXISTS ${db}`).then(() => undefined));
    return Object.freeze({ ...withDatabase(server, name), drop, [Symbol.asyncDispose]: drop });
  }
}

/**
 * Fresh databases on a running MariaDB server, each a copy of a template's tables and rows
 * (`initSql`, a `migrations` folder, a `setup` function, run once as root). A failing statement
 * fails `prepare()`/`create()` with a {@link MariadbTemplateError} naming it, and leaves no
 * database behind.
 *
 * @example
 * ```ts
 * import { mariadb, mariadbDatabases } from "bento/modules/mariadb";
 * import { useContainer, useDatabase } from "bento/vitest";
 *
 * const server = useContainer(mariadb(), { scope: "file" });
 * const databases = mariadbDatabases(() => server.current, { migrations: "db/migrations" });
 * it("starts from the migrated schema", async () => {
 *   const db = await useDatabase(databases); // dropped when the test ends
 * });
 * ```
 */
export function mariadbDatabases(server: MariadbServer | (() => MariadbServer), template: MariadbTemplate = {}): MariadbDatabases {
  return new MariadbDatabases(server, template);
}
