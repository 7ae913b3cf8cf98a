/**
 * bento/modules/postgres against a real server: the Debian-built image (no Docker Hub here), the
 * official image's env conventions, init SQL, readiness across the init restart, and a real
 * client (the host's psql, Debian's postgresql-client) through the published port.
 */
import "../setup-env.js";
import { debianBase, expectNoLeaks, serverSuites } from "./kit.js";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Image } from "../../../src/image/image.js";
import { StartupError } from "../../../src/errors.js";
import { BuildStepError } from "../../../src/builder/errors.js";
import { POSTGRES_IMAGE, PREPARED_PGDATA, postgres, postgresConnection, postgresImageFromDebian, preparedPostgresImage } from "../../../src/modules/postgres.js";
import { namingPackage } from "../../fixtures/host-program.js";

const describeServer = serverSuites("PostgreSQL", async () => (await debianBase()).with(postgresImageFromDebian));

const execFileAsync = promisify(execFile);
const started: string[] = [];
afterAll(() => expectNoLeaks(started));

/** Runs SQL with the host's psql; async, since the port proxy lives in this process. */
async function psql(url: string, sql: string): Promise<string> {
  const { stdout } = await execFileAsync("psql", [url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], { timeout: 30_000 }).catch((error: unknown) => {
    throw namingPackage(error, "psql", "postgresql-client");
  });
  return stdout.trim();
}

describeServer(`a PostgreSQL server from a Debian-built image`, () => {
  let image: Image;
  // debootstrap runs here on a machine without the cached rootfs (about 80 s).
  beforeAll(async () => {
    image = (await debianBase()).with(postgresImageFromDebian);
  }, 900_000);

  it("defaults to the official image (not pullable here: BENTO_PULL_POLICY=never)", async () => {
    expect(() => postgres({ password: "" })).toThrow(/postgres.password/);
    const error = await postgres()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect(String((error as StartupError).cause)).toContain(POSTGRES_IMAGE);
  });

  it("initializes with the user, password, database and init SQL, and answers psql on the host", { timeout: 300_000 }, async () => {
    const t0 = performance.now();
    await using db = await postgres({
      image,
      user: "app",
      password: "s3cret:/@",
      database: "appdb",
      initSql: "CREATE TABLE greetings (word text);\nINSERT INTO greetings VALUES ('hello'), ('world');",
      container: { startupTimeoutMs: 280_000 },
    }).start();
    console.log(`postgres start with init at start: ${Math.round(performance.now() - t0)} ms`);
    started.push(db.id);
    const connection = await postgresConnection(db);
    expect(connection).toMatchObject({ host: "127.0.0.1", user: "app", password: "s3cret:/@", database: "appdb" });
    expect(connection.url).toBe(`postgresql://app:s3cret%3A%2F%40@127.0.0.1:${connection.port}/appdb`);
    expect(await psql(connection.url, "SELECT 1")).toBe("1");
    expect(await psql(connection.url, "SELECT string_agg(word, ' ' ORDER BY word) FROM greetings")).toBe("hello world");
    expect(await psql(connection.url, "SELECT current_user || ' ' || current_database()")).toBe("app appdb");
    // The init ran in the temporary server, and the server that answers is the final one.
    const logs = await db.logs();
    expect(logs).toContain("bento-init.sql");
    expect(logs).toContain("PostgreSQL init process complete");
    expect(await psql(connection.url, "SHOW listen_addresses")).toBe("*");
    // The port proxy connects from loopback, and TCP clients still need the password, as in Docker.
    await expect(psql(connection.url.replace("s3cret%3A%2F%40", "wrong"), "SELECT 1")).rejects.toThrow(/password authentication failed for user "app"/);
  });

  it("fails the start with the server's message when the init SQL fails", { timeout: 300_000 }, async () => {
    const error = await postgres({ image, initSql: "SELECT * FROM no_such_table;", container: { startupTimeoutMs: 280_000 } })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).exitCode).not.toBe(0);
    expect((error as StartupError).timedOut).toBe(false);
    expect((error as StartupError).logTail.join("\n")).toMatch(/relation "no_such_table" does not exist/);
  });

  describe("initialized at build time (initAtBuild)", () => {
    const options = {
      user: "app",
      password: "s3cret:/@",
      database: "appdb",
      initSql: "CREATE TABLE greetings (word text);\nINSERT INTO greetings VALUES ('hello'), ('world');",
    };
    // The prepared image is built (and cached) once; the tests time the starts after that.
    beforeAll(async () => {
      await preparedPostgresImage(image, options).build();
    }, 300_000);

    it("starts without initdb and answers with the init SQL's rows", { timeout: 60_000 }, async () => {
      const t0 = performance.now();
      await using db = await postgres({ image, ...options, initAtBuild: true }).start();
      console.log(`postgres start with init at build: ${Math.round(performance.now() - t0)} ms`);
      started.push(db.id);
      const { url } = await postgresConnection(db);
      expect(await psql(url, "SELECT string_agg(word, ' ' ORDER BY word) FROM greetings")).toBe("hello world");
      expect(await psql(url, "SELECT current_user || ' ' || current_database() || ' ' || current_setting('data_directory')")).toBe(`app appdb ${PREPARED_PGDATA}`);
      expect(await db.logs()).not.toContain("PostgreSQL init process complete");
      await expect(psql(url.replace("s3cret%3A%2F%40", "wrong"), "SELECT 1")).rejects.toThrow(/password authentication failed for user "app"/);
    });

    it("gives each container its own copy of the data", { timeout: 60_000 }, async () => {
      const fixture = postgres({ image, ...options, initAtBuild: true });
      const [a, b] = await Promise.all([fixture.start(), fixture.start()]);
      started.push(a.id, b.id);
      await using _a = a;
      await using _b = b;
      const [urlA, urlB] = [(await postgresConnection(a)).url, (await postgresConnection(b)).url];
      await psql(urlA, "INSERT INTO greetings VALUES ('only-a'); CREATE TABLE a_only (id int)");
      expect(await psql(urlA, "SELECT count(*) FROM greetings")).toBe("3");
      expect(await psql(urlB, "SELECT count(*) FROM greetings")).toBe("2");
      expect(await psql(urlB, "SELECT to_regclass('a_only') IS NULL")).toBe("t");
    });

    it("fails the build with the server's message when the init SQL fails", { timeout: 120_000 }, async () => {
      const error = await postgres({ image, initSql: "SELECT * FROM no_such_table_at_build;", initAtBuild: true })
        .start()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartupError);
      const cause = (error as StartupError).cause;
      expect(cause).toBeInstanceOf(BuildStepError);
      expect((cause as BuildStepError).outputTail.join("\n")).toMatch(/relation "no_such_table_at_build" does not exist/);
    });
  });
});
