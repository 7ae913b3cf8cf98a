/**
 * bento/modules/mariadb against a real server: the Debian-built image (no Docker Hub here), the
 * official image's env conventions and init scripts (initSql), the mysql2 client through the published
 * port, a database per test, and a warm server as an image.
 */
import { testRoot } from "../setup-env.js";
import { debianBase, expectNoLeaks, serverSuites } from "./kit.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import { StartupError } from "../../../src/errors.js";
import type { Image } from "../../../src/image/image.js";
import { Container } from "../../../src/container/container.js";
import { Network } from "../../../src/network/network.js";
import { useContainer, useDatabase } from "../../../src/testing/vitest.js";
import { Wait } from "../../../src/wait/wait.js";
import { MARIADB_IMAGE, mariadb, mariadbConnection, mariadbDatabases, mariadbImageFromDebian, mariadbSnapshot, MariadbTemplateError } from "../../../src/modules/mariadb.js";

const describeServer = serverSuites("MariaDB", async () => (await debianBase()).with(mariadbImageFromDebian));

const started: string[] = [];
afterAll(() => expectNoLeaks(started));

/** Runs SQL with a fresh mysql2 connection and returns the rows. */
async function query(url: string, sql: string): Promise<unknown[]> {
  const client = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    const [rows] = await client.query(sql);
    return rows as unknown[];
  } finally {
    await client.end();
  }
}

const migrations = mkdtempSync(join(testRoot, "mariadb-migrations-"));
writeFileSync(join(migrations, "001_schema.sql"), "CREATE TABLE customers (id int PRIMARY KEY, name varchar(50));\nCREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, customer int, FOREIGN KEY (customer) REFERENCES customers (id));\n");
writeFileSync(join(migrations, "002_seed.sql"), "INSERT INTO customers VALUES (1, 'ada');\n");

describeServer(`a MariaDB server from a Debian-built image`, () => {
  let image: Image;
  // Built (or found in the shared cache) before the file's server starts within the hook timeout.
  beforeAll(async () => {
    image = (await debianBase()).with(mariadbImageFromDebian);
    await image.build();
  }, 900_000);

  it("defaults to the official image (not pullable here: BENTO_PULL_POLICY=never), and checks its options", async () => {
    expect(() => mariadb({ user: "root" })).toThrow(/mariadb.user/);
    expect(() => mariadb({ password: "" })).toThrow(/mariadb.password/);
    const error = await mariadb()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect(String((error as StartupError).cause)).toContain(MARIADB_IMAGE);
  });

  const server = useContainer(
    () =>
      mariadb({
        image,
        user: "shop",
        password: "p'w\\d",
        database: "shop",
        rootPassword: "r00t",
        initSql: "CREATE TABLE seeded (name varchar(20));\nINSERT INTO seeded VALUES ('from init');",
        container: { startupTimeoutMs: 880_000 },
      })
        .start()
        .then((c) => (started.push(c.id), c)),
    { scope: "file" },
  );

  it("initializes the user, password and database; mysql2 creates, inserts and selects through the published port", async () => {
    const connection = await mariadbConnection(server.current);
    expect(connection).toMatchObject({ host: "127.0.0.1", user: "shop", password: "p'w\\d", database: "shop", rootPassword: "r00t" });
    expect(connection.url).toBe(`mysql://shop:p'w%5Cd@127.0.0.1:${connection.port}/shop`);
    expect(connection.networkUrl).toBe(`mysql://shop:p'w%5Cd@${server.current.name}:3306/shop`);
    await query(connection.url, "CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items VALUES (1, 'one'), (2, 'two')");
    expect(await query(connection.url, "SELECT label FROM items ORDER BY id")).toEqual([{ label: "one" }, { label: "two" }]);
    expect(await query(connection.url, "SELECT CURRENT_USER() AS u, DATABASE() AS d")).toEqual([{ u: "shop@%", d: "shop" }]);
    const root = `mysql://root:r00t@127.0.0.1:${connection.port}/`;
    expect(await query(root, "SELECT @@innodb_flush_log_at_trx_commit AS f")).toEqual([{ f: 0 }]);
    await expect(query(connection.url.replace("p'w%5Cd", "wrong"), "SELECT 1")).rejects.toThrow(/Access denied for user 'shop'/);
  });

  it("runs the init SQL once, in the database, from /docker-entrypoint-initdb.d", async () => {
    const { url } = await mariadbConnection(server.current);
    expect(await query(url, "SELECT name FROM seeded")).toEqual([{ name: "from init" }]);
    expect(await server.current.logs()).toContain("running /docker-entrypoint-initdb.d/bento-init.sql");
  });

  it("fails the start with the server's message when the init SQL fails, and leaves no container", async () => {
    expect(() => mariadb({ initSql: 42 as unknown as string })).toThrow(/mariadb.initSql/);
    const error = await mariadb({ image, initSql: "CREATE TABLE fine (id int);\nINSERT INTO nope VALUES (1);", container: { startupTimeoutMs: 880_000 } })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).timedOut).toBe(false);
    expect((error as StartupError).exitCode).not.toBe(0);
    expect((error as StartupError).logTail.join("\n")).toMatch(/ERROR 1146 \(42S02\) at line 2: Table 'test\.nope' doesn't exist/);
  });

  const databases = mariadbDatabases(() => server.current, { migrations });
  for (const which of [1, 2]) {
    it(`gives test ${which} its own copy of the migrated tables and rows`, async () => {
      const db = await useDatabase(databases);
      expect(db.database).toMatch(/^bento_db_[0-9a-f]{16}$/);
      await query(db.url, `INSERT INTO orders (customer) VALUES (1)${which === 2 ? ", (1)" : ""}`);
      expect(await query(db.url, "SELECT COUNT(*) AS n FROM orders")).toEqual([{ n: which }]);
      expect(await query(db.url, "SELECT name FROM customers")).toEqual([{ name: "ada" }]);
      // The foreign key came along.
      await expect(query(db.url, "INSERT INTO orders (customer) VALUES (99)")).rejects.toThrow(/foreign key constraint fails/);
    });
  }

  it("names the failing statement of a migration, and leaves no database behind", async () => {
    const bad = mkdtempSync(join(testRoot, "mariadb-bad-"));
    writeFileSync(join(bad, "001.sql"), "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nINSERT INTO nope VALUES (2);\n");
    const error = await mariadbDatabases(server.current, { migrations: bad })
      .create()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MariadbTemplateError);
    expect((error as MariadbTemplateError).statement).toBe("INSERT INTO nope VALUES (2)");
    expect((error as MariadbTemplateError).line).toBe(3);
    expect((error as MariadbTemplateError).serverMessage).toMatch(/Table '.*\.nope' doesn't exist/);
    const root = `mysql://root:r00t@127.0.0.1:${server.current.hostPort(3306)}/`;
    const schemas = (await query(root, "SELECT schema_name AS s FROM information_schema.schemata WHERE schema_name LIKE 'bento\\_%'")) as { s: string }[];
    expect(schemas.map((r) => r.s)).toEqual([databases.templateName]);
  });
});

describeServer(`a warm MariaDB server as an image`, () => {
  it("starts containers from the snapshot with the migrated schema", { timeout: 900_000 }, async () => {
    const image = (await debianBase()).with(mariadbImageFromDebian);
    const warm = await mariadb({ image, container: { startupTimeoutMs: 880_000 } }).start();
    started.push(warm.id);
    await query((await mariadbConnection(warm)).url, "CREATE TABLE accounts (name varchar(20)); INSERT INTO accounts VALUES ('alice')");
    const snapshot = await mariadbSnapshot(warm, { tag: `bento-test/mariadb-warm:${process.pid}` });
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      await using db = await mariadb({ image: snapshot }).start();
      times.push(performance.now() - t0);
      started.push(db.id);
      expect(await query((await mariadbConnection(db)).url, "SELECT name FROM accounts")).toEqual([{ name: "alice" }]);
      expect(await db.logs()).not.toContain("initializing");
    }
    console.log(`mariadb from the warm snapshot, ready: ${times.map((t) => t.toFixed(0)).join(", ")} ms (loaded machine)`);
  });
});

describeServer(`MariaDB from other containers on the same network`, () => {
  it("gives a networkUrl that a client container connects with, for the server and each database", { timeout: 900_000 }, async () => {
    const image = (await debianBase()).with(mariadbImageFromDebian);
    await using net = await new Network().create();
    const name = `maria-${process.pid}`;
    await using server = await mariadb({ image, container: { network: net, name, startupTimeoutMs: 880_000 } }).start();
    started.push(server.id);
    expect((await mariadbConnection(server)).networkUrl).toBe(`mysql://test:test@${name}:3306/test`);
    await using db = await mariadbDatabases(server, { initSql: "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('copied')" }).create();
    expect(db.networkUrl).toBe(`mysql://test:test@${name}:3306/${db.database}`);
    // The mariadb client in a second container of the same image, reaching the server by its name.
    const url = new URL(db.networkUrl);
    const argv = ["mariadb", `--host=${url.hostname}`, `--port=${url.port}`, `--user=${url.username}`, `--password=${url.password}`, url.pathname.slice(1), "-N", "-e", "SELECT v FROM marker"];
    await using client = await new Container(image, { network: net, command: argv, wait: Wait.forExit() }).start();
    started.push(client.id);
    expect(await client.logs()).toBe("copied\n");
  });
});
