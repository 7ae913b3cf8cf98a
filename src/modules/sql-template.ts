/**
 * The template of the per-test database factories (postgres, mariadb): SQL text, a folder of
 * migration files and a setup function, read and checked when the factory is made, and hashed,
 * so the template's name on the server changes whenever what it would run changes.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { BentoError, InvalidOptionError } from "../errors.js";

/**
 * What a template is made of, as given to a database factory.
 *
 * @example
 * ```ts
 * const template: SqlTemplate<PostgresConnection> = { migrations: "db/migrations" };
 * ```
 */
export interface SqlTemplate<C> {
  /** SQL run first (any number of statements). */
  initSql?: string;
  /** A folder of `*.sql` files, run in the order of their names (`001_users.sql`, `002_orders.sql`...). */
  migrations?: string;
  /**
   * Runs last, with the template database's connection details (connect with your own client,
   * e.g. to run an ORM's migrations). Its connections are closed for it when it returns. Its
   * source text is part of the template's identity: change the function, get a new template.
   */
  setup?: (database: C) => void | Promise<void>;
}

/** A template's parts, read now, so that its identity is what will run. */
export interface TemplateParts<C> {
  initSql?: string;
  migrations: { path: string; sql: string }[];
  setup?: (database: C) => void | Promise<void>;
  /** sha256 of the SQL, the files' paths and text, and the setup function's source. */
  hash: string;
}

/**
 * Checks a template and reads its migration files. `factory` names the function in errors.
 *
 * @example
 * ```ts
 * const parts = readTemplate("postgresDatabases", { migrations: "db/migrations" });
 * ```
 */
export function readTemplate<C>(factory: string, template: SqlTemplate<C>): TemplateParts<C> {
  if (typeof template !== "object" || template === null) throw new InvalidOptionError(`${factory}.template`, "expected { initSql?, migrations?, setup? }");
  const { initSql, migrations, setup } = template;
  if (initSql !== undefined && typeof initSql !== "string") throw new InvalidOptionError(`${factory}.template.initSql`, "expected SQL text (a string)");
  if (setup !== undefined && typeof setup !== "function") throw new InvalidOptionError(`${factory}.template.setup`, "expected a function (database) => Promise<void>");
  const files: TemplateParts<C>["migrations"] = [];
  if (migrations !== undefined) {
    if (typeof migrations !== "string" || migrations === "") throw new InvalidOptionError(`${factory}.template.migrations`, "expected the path of a folder of .sql files");
    const dir = resolve(migrations);
    let names: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error("not a folder");
      names = readdirSync(dir)
        .filter((n) => n.endsWith(".sql"))
        .sort();
    } catch (error) {
      throw new InvalidOptionError(`${factory}.template.migrations`, `cannot read the folder ${dir}: ${(error as Error).message}; give the folder that holds the .sql migration files`);
    }
    if (names.length === 0) throw new InvalidOptionError(`${factory}.template.migrations`, `${dir} holds no .sql file; give the folder that holds the migration files`);
    for (const name of names) files.push({ path: join(dir, name), sql: readFileSync(join(dir, name), "utf8") });
  }
  const hash = createHash("sha256")
    .update(JSON.stringify([initSql ?? null, files.map((f) => [f.path, f.sql]), setup?.toString() ?? null]))
    .digest("hex");
  return { ...(initSql === undefined ? {} : { initSql }), migrations: files, ...(setup ? { setup } : {}), hash };
}

/**
 * A statement of a template failed: which source, which statement and line, and the server's
 * message. The template database was dropped again. Each module throws its own subclass.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof SqlTemplateError) console.log(e.source, e.line, e.statement, e.serverMessage); }
 * ```
 */
export class SqlTemplateError extends BentoError {
  constructor(
    code: string,
    /** The server's kind, as the message names it ("postgres", "mariadb"). */
    server: string,
    /** `initSql`, the migration file's path, or `setup`. */
    readonly source: string,
    /** The statement that failed (undefined for `setup`). */
    readonly statement: string | undefined,
    /** Its 1-based line in the source. */
    readonly line: number | undefined,
    /** The server's message (or the error `setup` threw). */
    readonly serverMessage: string,
    cause: unknown,
  ) {
    const where = line === undefined ? source : `${source}, line ${line}`;
    const shown = statement === undefined ? "" : `\n  statement: ${statement.length > 500 ? `${statement.slice(0, 500)}...` : statement}`;
    super(code, `${server} template: ${where}: ${serverMessage}${shown}\nthe template database was dropped; fix the SQL and run again`, { cause });
  }
}
