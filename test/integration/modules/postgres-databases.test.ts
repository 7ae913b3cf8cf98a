/**
 * A fresh PostgreSQL database per test (postgresDatabases, useDatabase) and a warm server as an
 * image (postgresSnapshot), against a real server from the Debian-built image, with the `pg`
 * client as users connect.
 */
import { testRoot } from "../setup-env.js";
import { debianBase, expectNoLeaks, serverSuites } from "./kit.js";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Container } from "../../../src/container/container.js";
import type { RunningContainer } from "../../../src/container/running-container.js";
import { Network } from "../../../src/network/network.js";
import { Wait } from "../../../src/wait/wait.js";
import { InvalidOptionError } from "../../../src/errors.js";
import type { Image } from "../../../src/image/image.js";
import { useContainer, useDatabase } from "../../../src/testing/vitest.js";
import { POSTGRES_MEMORY_DIR } from "../../../src/modules/postgres-connection.js";
import { postgres, postgresConnection, postgresDatabases, postgresImageFromDebian, postgresSnapshot, PostgresTemplateError } from "../../../src/modules/postgres.js";

const describeServer = serverSuites("PostgreSQL", async () => (await debianBase()).with(postgresImageFromDebian));

const started: string[] = [];
afterAll(() => expectNoLeaks(started));

/** Runs one query with a fresh `pg` client and returns its rows. */
async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const migrations = mkdtempSync(join(testRoot, "migrations-"));
writeFileSync(join(migrations, "001_schema.sql"), "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\n");
writeFileSync(join(migrations, "002_seed.sql"), "INSERT INTO notes (body) VALUES ('seeded');\n");
writeFileSync(join(migrations, "README.md"), "not SQL: ignored\n");

describeServer(`a database per test from one PostgreSQL server`, () => {
  let image: Image;
  // Built (or found in the shared cache) before the file's server starts within the hook timeout.
  beforeAll(async () => {
    image = (await debianBase()).with(postgresImageFromDebian);
    await image.build();
  }, 900_000);
  const server = useContainer(
    () =>
      postgres({ image, initAtBuild: true, container: { startupTimeoutMs: 280_000 } })
        .start()
        .then((c) => (started.push(c.id), c)),
    { scope: "file" },
  );
  const databases = postgresDatabases(() => server.current, { migrations, initSql: "CREATE EXTENSION IF NOT EXISTS plpgsql" });
  beforeAll(() => databases.prepare(), 120_000);

  const ids: string[] = [];
  for (const which of ["first", "second"]) {
    it(`gives the ${which} test its own copy of the migrated database`, async () => {
      const db = await useDatabase(databases);
      ids.push(db.database);
      expect(db.database).toMatch(/^bento_db_[0-9a-f]{16}$/);
      expect(db.url).toBe(`postgresql://test:test@127.0.0.1:${db.port}/${db.database}`);
      await query(db.url, `INSERT INTO notes (body) VALUES ('${which}')`);
      expect((await query(db.url, "SELECT body FROM notes ORDER BY id")).map((r) => r.body)).toEqual(["seeded", which]);
    });
  }

  it("keeps the template and each database in memory: a tablespace on the container's tmpfs", async () => {
    const db = await useDatabase(databases);
    const where = `SELECT d.datname, t.spcname, pg_tablespace_location(t.oid) AS location FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname IN ('${db.database}', '${databases.templateName}') ORDER BY d.datistemplate`;
    expect(await query(db.url, where)).toEqual([
      { datname: db.database, spcname: "bento_memory", location: POSTGRES_MEMORY_DIR },
      { datname: databases.templateName, spcname: "bento_memory", location: POSTGRES_MEMORY_DIR },
    ]);
    const fs = await server.current.exec(["stat", "-f", "-c", "%T", POSTGRES_MEMORY_DIR]);
    expect(fs.stdout.trim()).toBe("tmpfs");
  });

  it("dropped each test's database when it ended", async () => {
    const { url } = await postgresConnection(server.current);
    const names = (await query(url, "SELECT datname FROM pg_database")).map((r) => r.datname);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(names).not.toContain(id);
    expect(names).toContain(databases.templateName);
  });

  it("makes databases for concurrent callers, each isolated, from server details alone", async () => {
    // What a vitest global fixture hands to workers: plain connection details.
    const fromDetails = postgresDatabases(await postgresConnection(server.current), { migrations, initSql: "CREATE EXTENSION IF NOT EXISTS plpgsql" });
    expect(fromDetails.templateName).toBe(databases.templateName);
    const created = await Promise.all(Array.from({ length: 4 }, () => fromDetails.create()));
    try {
      expect(new Set(created.map((d) => d.database)).size).toBe(4);
      await Promise.all(created.map((d, i) => query(d.url, `INSERT INTO notes (body) VALUES ('n${i}')`)));
      for (const [i, d] of created.entries()) expect((await query(d.url, "SELECT body FROM notes ORDER BY id")).map((r) => r.body)).toEqual(["seeded", `n${i}`]);
    } finally {
      await Promise.all(created.map((d) => d.drop()));
    }
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const d = await fromDetails.create();
      times.push(performance.now() - t0);
      await d.drop();
    }
    console.log(`fresh database from the template: median ${times.sort((a, b) => a - b)[5]!.toFixed(1)} ms of 10 (loaded machine)`);
  });

  it("names the failing statement and the server's message, and leaves no template behind", async () => {
    const bad = mkdtempSync(join(testRoot, "migrations-bad-"));
    writeFileSync(join(bad, "001_ok.sql"), "CREATE TABLE ok (id int);\n");
    writeFileSync(join(bad, "002_broken.sql"), "INSERT INTO ok VALUES (1);\n\nINSERT INTO missing_table VALUES (2);\nINSERT INTO ok VALUES (3);\n");
    const broken = postgresDatabases(server.current, { migrations: bad });
    const error = await broken.create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresTemplateError);
    const e = error as PostgresTemplateError;
    expect(e.source).toBe(join(bad, "002_broken.sql"));
    expect(e.line).toBe(3);
    expect(e.statement).toBe("INSERT INTO missing_table VALUES (2)");
    expect(e.serverMessage).toBe('relation "missing_table" does not exist');
    expect(e.message).toContain("002_broken.sql, line 3");
    // A runtime error has no position: the statement is found by what completed before it.
    const division = await postgresDatabases(server.current, { initSql: "CREATE TABLE x (n int);\nSELECT 1 / 0;" })
      .prepare()
      .catch((err: unknown) => err);
    expect(division).toBeInstanceOf(PostgresTemplateError);
    expect((division as PostgresTemplateError).statement).toBe("SELECT 1 / 0");
    expect((division as PostgresTemplateError).serverMessage).toBe("division by zero");
    const { url } = await postgresConnection(server.current);
    const names = (await query(url, "SELECT datname FROM pg_database WHERE datname LIKE 'bento\\_%'")).map((r) => r.datname);
    expect(names).toEqual([databases.templateName]);
    // A failing setup function is reported too, and its template dropped.
    const setupError = await postgresDatabases(server.current, { setup: () => Promise.reject(new Error("seed service down")) })
      .prepare()
      .catch((err: unknown) => err);
    expect(setupError).toBeInstanceOf(PostgresTemplateError);
    expect((setupError as PostgresTemplateError).message).toMatch(/postgres template: setup: seed service down/);
    expect((await query(url, "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'bento\\_%'"))[0]).toEqual({ n: 1 });
  });

  it("runs a setup function once, with the template's connection", async () => {
    let calls = 0;
    const withSetup = postgresDatabases(server.current, {
      migrations,
      setup: async (database) => {
        calls++;
        await query(database.url, "INSERT INTO notes (body) VALUES ('from setup')");
      },
    });
    await using a = await withSetup.create();
    await using b = await withSetup.create();
    expect(calls).toBe(1);
    for (const d of [a, b]) expect((await query(d.url, "SELECT body FROM notes ORDER BY id")).map((r) => r.body)).toEqual(["seeded", "from setup"]);
  });

  it("keeps a script alive while it waits for a database (nothing else pending)", async () => {
    const details = JSON.stringify(await postgresConnection(server.current));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(import.meta.dirname, "database-child.ts"), details], { timeout: 60_000 });
    expect(stdout).toMatch(/^created bento_db_[0-9a-f]{16}\ndropped\n$/);
  });

  it("refuses bad input before touching the server", () => {
    expect(() => postgresDatabases(server.current, { migrations: join(migrations, "nope") })).toThrow(InvalidOptionError);
    expect(() => postgresDatabases(server.current, { migrations: join(migrations, "nope") })).toThrow(/migrations: cannot read the folder/);
    const empty = join(migrations, "empty");
    mkdirSync(empty, { recursive: true });
    expect(() => postgresDatabases(server.current, { migrations: empty })).toThrow(/holds no \.sql file/);
    expect(() => postgresDatabases(server.current, { initSql: 42 as unknown as string })).toThrow(/initSql/);
  });
});

describeServer(`a warm PostgreSQL server as an image`, () => {
  it("starts containers from the snapshot with the migrated schema and rows", { timeout: 300_000 }, async () => {
    const image = (await debianBase()).with(postgresImageFromDebian);
    const warm: RunningContainer = await postgres({ image, initAtBuild: true, container: { startupTimeoutMs: 280_000 } }).start();
    started.push(warm.id);
    await query((await postgresConnection(warm)).url, "CREATE TABLE accounts (name text); INSERT INTO accounts VALUES ('alice')");
    // A template in the memory tablespace: the snapshot keeps its catalog rows, not its files.
    const template = { initSql: "CREATE TABLE per_test (n int)" };
    await (await postgresDatabases(warm, template).create()).drop();
    const snapshot = await postgresSnapshot(warm, { tag: `bento-test/pg-warm:${process.pid}` });
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await using db = await postgres({ image: snapshot }).start();
      times.push(performance.now() - t0);
      started.push(db.id);
      const { url } = await postgresConnection(db);
      expect(await query(url, "SELECT name FROM accounts")).toEqual([{ name: "alice" }]);
      expect(await query(url, "SHOW fsync")).toEqual([{ fsync: "off" }]);
      expect(await db.logs()).not.toMatch(/database system was not properly shut down|automatic recovery/);
      // The tablespace's tmpfs starts empty: the template is made again, in memory.
      await using fresh = await postgresDatabases(db, template).create();
      expect(await query(fresh.url, "SELECT count(*)::int AS n FROM per_test")).toEqual([{ n: 0 }]);
    }
    console.log(`postgres from the warm snapshot, ready: ${times.map((t) => t.toFixed(0)).join(", ")} ms (loaded machine)`);
  });

  it("refuses a server whose data directory is in a volume", async () => {
    const fake = { id: "0".repeat(64), inspect: async () => ({ process: { env: ["PGDATA=/var/lib/postgresql/data"] }, image: { Volumes: { "/var/lib/postgresql/data": {} } } }) };
    await expect(postgresSnapshot(fake as unknown as RunningContainer)).rejects.toThrow(/initAtBuild/);
  });
});

describeServer(`PostgreSQL from other containers on the same network`, () => {
  it("gives a networkUrl that a client container connects with, for the server and each database", { timeout: 300_000 }, async () => {
    const image = (await debianBase()).with(postgresImageFromDebian);
    await using net = await new Network().create();
    await using server = await postgres({ image, initAtBuild: true, container: { network: net, name: `pg-${process.pid}`, startupTimeoutMs: 280_000 } }).start();
    started.push(server.id);
    const connection = await postgresConnection(server);
    expect(connection.networkUrl).toBe(`postgresql://test:test@pg-${process.pid}:5432/test`);
    await using db = await postgresDatabases(server, { initSql: "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('cloned')" }).create();
    expect(db.networkUrl).toBe(`postgresql://test:test@pg-${process.pid}:5432/${db.database}`);
    // psql in a second container of the same image, reaching the server by its name.
    await using client = await new Container(image, { network: net, command: ["psql", db.networkUrl!, "-XAtc", "SELECT v FROM marker"], wait: Wait.forExit() }).start();
    started.push(client.id);
    expect(await client.logs()).toBe("cloned\n");
  });
});
