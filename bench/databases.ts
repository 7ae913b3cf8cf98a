/**
 * Ephemeral databases (issue 20): how long bento's database fixtures take to be ready, each row
 * beside the same server started directly on this machine (bench/database-hosts.ts) as its floor.
 * Rows: postgres first start cold (initdb at start) and warm (initialized at build), a fresh
 * database per test (CREATE DATABASE ... TEMPLATE), a fresh server from a warm snapshot, Redis
 * ready, MariaDB ready (init at start, and from a warm snapshot), a fresh MariaDB database, and
 * `stop()` of a Redis started with its wait against one started without (then found ready).
 * Medians over BENCH_DB_ROUNDS rounds (default 20), rows interleaved round by round.
 *
 *   npx tsx bench/databases.ts [--json]     (bench/run.ts calls it through benchDatabases)
 *
 * The images are built from the module tests' Debian base and store (/var/cache/bento-test, made
 * by `npx vitest run test/integration/modules` or here, with debootstrap, on first use).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { summarize, type Summary } from "./stats.js";

const self = fileURLToPath(import.meta.url);
const cacheDir = process.env.BENTO_TEST_CACHE ?? "/var/cache/bento-test";

/** One row: bento's timing, and the host's floor or why it is missing. */
export interface DatabaseRow {
  row: string;
  bento?: Summary;
  host?: Summary;
  hostMissing?: string;
  ratio?: number;
  error?: string;
}

/** Runs this file in a child process (its BENTO_HOME is the shared module store) and returns its rows. */
export async function benchDatabases(): Promise<DatabaseRow[] | string> {
  const tsx = join(self, "../../node_modules/.bin/tsx");
  const { stdout } = await promisify(execFile)(tsx, [self, "--json"], { maxBuffer: 1 << 24, timeout: 60 * 60_000 });
  return JSON.parse(stdout) as DatabaseRow[];
}

/** A timed thing to run once per round. */
interface Timed {
  row: string;
  bento: () => Promise<number>;
  host?: () => Promise<number>;
  hostMissing?: string;
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const rounds = Number(process.env.BENCH_DB_ROUNDS ?? 20);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const runtimeDir = mkdtempSync(join(tmpdir(), "bento-bench-db-"));
  process.env.BENTO_HOME = join(cacheDir, "modules-home");
  process.env.BENTO_RUNTIME_DIR = runtimeDir;
  process.env.BENTO_PULL_POLICY = "never";
  const { Image } = await import("../src/index.js");
  const { postgres, postgresDatabases, postgresImageFromDebian, postgresSnapshot, preparedPostgresImage } = await import("../src/modules/postgres.js");
  const { redis, redisImageFromDebian } = await import("../src/modules/redis.js");
  const { mariadb, mariadbDatabases, mariadbImageFromDebian, mariadbSnapshot } = await import("../src/modules/mariadb.js");
  const { debianRootfs } = await import("../test/integration/builder/debian-rootfs.js");
  const hosts = await import("./database-hosts.js");
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(runtimeDir, { recursive: true, force: true })];
  try {
    log("bench databases: building (or finding cached) images...");
    const base = Image.fromRootfs(await debianRootfs());
    const tag = async (image: InstanceType<typeof Image>, name: string) => (await image.build({ tag: `bento-bench/${name}` }), Image.from(`bento-bench/${name}`));
    const pgImage = await tag(base.with(postgresImageFromDebian), "postgres:debian");
    const pgPrepared = await tag(preparedPostgresImage(pgImage), "postgres:prepared");
    const redisImage = await tag(base.with(redisImageFromDebian), "redis:debian");
    const mariaImage = await tag(base.with(mariadbImageFromDebian), "mariadb:debian");
    const schema = "CREATE TABLE users (id serial PRIMARY KEY, name text); CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users); INSERT INTO users (name) VALUES ('ada'), ('bob');";

    // Long-lived servers for the per-test database rows and the snapshots.
    const pgServer = await postgres({ image: pgPrepared }).start();
    cleanups.push(() => pgServer[Symbol.asyncDispose]());
    const pgDatabases = postgresDatabases(pgServer, { initSql: schema });
    await pgDatabases.prepare();
    const warmPg = await postgres({ image: pgPrepared }).start();
    await (await postgresDatabases(warmPg, { initSql: schema }).create()).drop();
    const pgSnapshot = await postgresSnapshot(warmPg, { tag: "bento-bench/postgres:warm" });
    const mariaServer = await mariadb({ image: mariaImage, container: { startupTimeoutMs: 300_000 } }).start();
    cleanups.push(() => mariaServer[Symbol.asyncDispose]());
    const mariaDatabases = mariadbDatabases(mariaServer, { initSql: "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name text); INSERT INTO users (name) VALUES ('ada'), ('bob');" });
    await mariaDatabases.prepare();
    const warmMaria = await mariadb({ image: mariaImage, container: { startupTimeoutMs: 300_000 } }).start();
    const mariaSnapshot = await mariadbSnapshot(warmMaria, { tag: "bento-bench/mariadb:warm" });

    const hostPgServer = await hosts.hostPostgresServer();
    let hostDatabases: ReturnType<typeof postgresDatabases> | undefined;
    if ("port" in hostPgServer) {
      cleanups.push(() => hostPgServer.stop());
      const c = { host: "127.0.0.1", port: hostPgServer.port, user: "postgres", password: "", database: "postgres", url: `postgresql://postgres@127.0.0.1:${hostPgServer.port}/postgres` };
      hostDatabases = postgresDatabases(c, { initSql: schema });
      await hostDatabases.prepare();
    }
    const floor = (server: ReturnType<typeof hosts.hostRedis>) => {
      if ("missing" in server) return { hostMissing: server.missing };
      cleanups.push(server.cleanup);
      return { host: server.run };
    };
    const startTime = async (start: () => Promise<AsyncDisposable>) => {
      const t0 = performance.now();
      const running = await start();
      const ms = performance.now() - t0;
      await running[Symbol.asyncDispose]();
      return ms;
    };
    const createTime = async (databases: { create(): Promise<{ drop(): Promise<void> }> }) => {
      const t0 = performance.now();
      const db = await databases.create();
      const ms = performance.now() - t0;
      await db.drop();
      return ms;
    };
    /** Connects until Redis answers PING: readiness found by the caller, not by a wait strategy. */
    const untilPong = async (port: number) => {
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          const s = connect(port, "127.0.0.1", () => s.write("PING\r\n"));
          s.once("data", (d) => (s.destroy(), resolve(d.toString().startsWith("+PONG"))));
          s.once("error", () => resolve(false));
          s.once("close", () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const stopTime = async (withWait: boolean) => {
      const running = await redis({ image: redisImage, ...(withWait ? {} : { container: { wait: undefined } }) }).start();
      if (!withWait) await untilPong(running.hostPort(6379));
      const t0 = performance.now();
      const stopped = await running.stop();
      const ms = performance.now() - t0;
      await stopped.remove();
      return ms;
    };
    const pgHostCold = hosts.hostPostgres("cold");
    const pgHostWarm = hosts.hostPostgres("warm");
    const timed: Timed[] = [
      { row: "postgres first start, cold (initdb at start)", bento: () => startTime(() => postgres({ image: pgImage }).start()), ...floor(pgHostCold) },
      { row: "postgres first start, warm (initialized at build)", bento: () => startTime(() => postgres({ image: pgPrepared }).start()), ...floor(pgHostWarm) },
      { row: "postgres fresh database per test (template clone)", bento: () => createTime(pgDatabases), ...(hostDatabases ? { host: () => createTime(hostDatabases!) } : { hostMissing: (hostPgServer as { missing: string }).missing }) },
      { row: "postgres fresh server from the warm snapshot", bento: () => startTime(() => postgres({ image: pgSnapshot }).start()), ...floor(pgHostWarm) },
      { row: "redis ready", bento: () => startTime(() => redis({ image: redisImage }).start()), ...floor(hosts.hostRedis()) },
      { row: "mariadb first start, cold (install-db at start)", bento: () => startTime(() => mariadb({ image: mariaImage, container: { startupTimeoutMs: 300_000 } }).start()), ...floor(hosts.hostMariadb("cold")) },
      { row: "mariadb fresh server from the warm snapshot", bento: () => startTime(() => mariadb({ image: mariaSnapshot }).start()), ...floor(hosts.hostMariadb("warm")) },
      { row: "mariadb fresh database per test (tables copied)", bento: () => createTime(mariaDatabases) },
      { row: "redis stop() after a wait", bento: () => stopTime(true), host: () => stopTime(false) },
    ];
    const samples = timed.map(() => ({ bento: [] as number[], host: [] as number[], error: undefined as string | undefined }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, t] of timed.entries()) {
        try {
          samples[i]!.bento.push(await t.bento());
          if (t.host) samples[i]!.host.push(await t.host());
        } catch (error) {
          samples[i]!.error ??= (error as Error).message.split("\n")[0];
        }
      }
      log(`  round ${round + 1}/${rounds}`);
    }
    const rows: DatabaseRow[] = timed.map((t, i) => {
      const bento = summarize(samples[i]!.bento),
        host = summarize(samples[i]!.host);
      return {
        row: t.row,
        ...(bento ? { bento } : {}),
        ...(host ? { host } : {}),
        ...(t.hostMissing ? { hostMissing: t.hostMissing } : {}),
        ...(bento && host ? { ratio: bento.medianMs / host.medianMs } : {}),
        ...(samples[i]!.error ? { error: samples[i]!.error } : {}),
      };
    });
    // The stop row's "host" column is a bento stop without a wait: say so.
    rows.at(-1)!.row = "redis stop() after a wait (host column: stop() after a start without a wait, readiness found by PING)";
    if (json) console.log(JSON.stringify(rows, null, 2));
    else {
      const ms = (s?: Summary) => (s ? `${s.medianMs.toFixed(1)} ms` : "-");
      for (const r of rows)
        console.log(`${r.row.padEnd(60)} bento ${ms(r.bento).padStart(10)}   host ${(r.host ? ms(r.host) : (r.hostMissing ?? "-")).padStart(10)}${r.ratio ? `   x${r.ratio.toFixed(2)}` : ""}${r.error ? `   (errors: ${r.error})` : ""}`);
      console.log(`medians over ${rounds} rounds`);
    }
  } finally {
    for (const cleanup of cleanups.reverse())
      await Promise.resolve()
        .then(cleanup)
        .catch(() => undefined);
  }
}

if (process.argv[1] === self) await main();
