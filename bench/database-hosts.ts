/**
 * The floors of bench/databases.ts: the same servers started directly on this machine (Debian's
 * postgresql, redis-server and mariadb-server packages), timed to the same readiness as bento's
 * fixtures. Each returns undefined plus the reason when its server is not installed, so the
 * report says which floor is missing and how to get it.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import getPort from "get-port";
import { PostgresWireClient } from "../src/modules/postgres-wire.js";
import { POSTGRES_TEST_SETTINGS } from "../src/modules/postgres-settings.js";
import { REDIS_TEST_ARGS } from "../src/modules/redis.js";
import { MARIADB_TEST_ARGS } from "../src/modules/mariadb.js";

/** A host server to time, or why there is none. */
export type HostServer = { run: () => Promise<number>; cleanup: () => void } | { missing: string };

const asUser = (user: string, argv: string[]) => ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", ...argv];

function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  return version === undefined ? undefined : join(root, version, "bin");
}

/** Resolves with the ms until `line` appears in the child's output; kills it after. */
function timeUntilLine(argv: string[], line: RegExp, timeoutMs = 60_000): Promise<{ ms: number; child: ChildProcess }> {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`${argv[0]}: no ${line} within ${timeoutMs} ms:\n${seen.slice(-500)}`))), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (line.test(seen)) {
        clearTimeout(timer);
        resolve({ ms: performance.now() - t0, child });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => (clearTimeout(timer), reject(new Error(`${argv[0]} exited (${code}) before ${line}:\n${seen.slice(-500)}`))));
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Polls until `SELECT 1` succeeds on the host server; ms from `t0`. */
async function untilPostgresAnswers(port: number, t0: number): Promise<number> {
  for (;;) {
    try {
      const client = await PostgresWireClient.connect({ host: "127.0.0.1", port, user: "postgres", password: "", database: "postgres" });
      await client.query("SELECT 1");
      await client.close();
      return performance.now() - t0;
    } catch {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** A data directory owned by postgres, initialized with trust auth (for the floors' initdb). */
function initdb(bin: string, dir: string): void {
  execFileSync("chown", ["postgres:postgres", dir]);
  const argv = asUser("postgres", [join(bin, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "--no-sync"]);
  execFileSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
}

function startPostgres(bin: string, dir: string, port: number): ChildProcess {
  const settings = POSTGRES_TEST_SETTINGS.flatMap((s) => ["-c", s]);
  const argv = asUser("postgres", [join(bin, "postgres"), "-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-k", dir, ...settings]);
  return spawn(argv[0]!, argv.slice(1), { stdio: "ignore" });
}

/**
 * PostgreSQL on the host: initdb + start until a query answers (`cold`), or the start alone on a
 * copy of an initialized, cleanly stopped data directory (`warm`).
 */
export function hostPostgres(kind: "cold" | "warm"): HostServer {
  const bin = postgresBin();
  if (bin === undefined) return { missing: "PostgreSQL is not installed on the host (apt-get install -y postgresql)" };
  const scratch = mkdtempSync(join(tmpdir(), "bento-bench-hostpg-"));
  execFileSync("chmod", ["755", scratch]);
  const template = join(scratch, "template");
  if (kind === "warm") {
    execFileSync("mkdir", ["-m", "700", template]);
    initdb(bin, template);
  }
  let round = 0;
  return {
    run: async () => {
      const dir = join(scratch, `round-${round++}`);
      if (kind === "warm") cpSync(template, dir, { recursive: true });
      else execFileSync("mkdir", ["-m", "700", dir]);
      execFileSync("chown", ["-R", "postgres:postgres", dir]);
      const port = await getPort({ host: "127.0.0.1" });
      const t0 = performance.now();
      if (kind === "cold") initdb(bin, dir);
      const child = startPostgres(bin, dir, port);
      try {
        return await untilPostgresAnswers(port, t0);
      } finally {
        await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGINT"))));
        rmSync(dir, { recursive: true, force: true });
      }
    },
    cleanup: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** A PostgreSQL server on the host for the "fresh database" floor; its port, and how to stop it. */
export async function hostPostgresServer(): Promise<{ port: number; stop: () => Promise<void> } | { missing: string }> {
  const bin = postgresBin();
  if (bin === undefined) return { missing: "PostgreSQL is not installed on the host (apt-get install -y postgresql)" };
  const scratch = mkdtempSync(join(tmpdir(), "bento-bench-hostpg-"));
  execFileSync("chmod", ["755", scratch]);
  const dir = join(scratch, "data");
  execFileSync("mkdir", ["-m", "700", dir]);
  initdb(bin, dir);
  const port = await getPort({ host: "127.0.0.1" });
  const child = startPostgres(bin, dir, port);
  await untilPostgresAnswers(port, performance.now());
  // The same memory tablespace the module's containers get (a tmpfs): postgresDatabases finds it
  // and keeps its template and clones there, so the floor is the same work in the same medium.
  const memory = mkdtempSync("/dev/shm/bento-bench-hostpg-");
  execFileSync("chown", ["postgres:postgres", memory]);
  const admin = await PostgresWireClient.connect({ host: "127.0.0.1", port, user: "postgres", password: "", database: "postgres" });
  await admin.query(`CREATE TABLESPACE bento_memory LOCATION '${memory}'`);
  await admin.close();
  return {
    port,
    stop: async () => {
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGINT"))));
      rmSync(scratch, { recursive: true, force: true });
      rmSync(memory, { recursive: true, force: true });
    },
  };
}

/** redis-server on the host, with the fixture's arguments, until it logs that it is ready. */
export function hostRedis(): HostServer {
  const server = ["/usr/bin/redis-server", "/usr/sbin/redis-server"].find((p) => existsSync(p));
  if (server === undefined) return { missing: "redis-server is not installed on the host (apt-get install -y redis-server)" };
  return {
    run: async () => {
      const port = await getPort({ host: "127.0.0.1" });
      const { ms, child } = await timeUntilLine([server, "--port", String(port), "--bind", "127.0.0.1", ...REDIS_TEST_ARGS], /Ready to accept connections/);
      await stopChild(child, "SIGKILL");
      return ms;
    },
    cleanup: () => undefined,
  };
}

/**
 * mariadbd on the host until it is ready: "warm" on a copy of an initialized data directory,
 * "cold" after mariadb-install-db into an empty one (timed too, as the module's cold start
 * initializes at start).
 */
export function hostMariadb(kind: "cold" | "warm"): HostServer {
  const server = ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"].find((p) => existsSync(p));
  if (server === undefined) return { missing: "mariadb-server is not installed on the host (apt-get install -y mariadb-server)" };
  const scratch = mkdtempSync(join(tmpdir(), "bento-bench-hostmaria-"));
  execFileSync("chmod", ["755", scratch]);
  // The server's options go to mariadb-install-db too, as the module's entrypoint passes them: a
  // data directory made with the default 96 MB redo log is resized to the 4 MB one at each start.
  const installDb = (dir: string) => execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${dir}`, "--user=mysql", "--skip-test-db", "--auth-root-authentication-method=normal", ...MARIADB_TEST_ARGS], { stdio: "ignore" });
  const template = join(scratch, "template");
  if (kind === "warm") installDb(template);
  let round = 0;
  return {
    run: async () => {
      const dir = join(scratch, `round-${round++}`);
      if (kind === "warm") cpSync(template, dir, { recursive: true });
      else execFileSync("mkdir", [dir]);
      execFileSync("chown", ["-R", "mysql:mysql", dir]);
      const port = await getPort({ host: "127.0.0.1" });
      const t0 = performance.now();
      if (kind === "cold") installDb(dir);
      const argv = [server, "--no-defaults", `--datadir=${dir}`, "--user=mysql", `--port=${port}`, "--bind-address=127.0.0.1", `--socket=${join(dir, "sock")}`, `--pid-file=${join(dir, "pid")}`, ...MARIADB_TEST_ARGS];
      const { child } = await timeUntilLine(argv, new RegExp(`port: ${port}\\b`));
      const ms = performance.now() - t0;
      await stopChild(child, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      return ms;
    },
    cleanup: () => rmSync(scratch, { recursive: true, force: true }),
  };
}
