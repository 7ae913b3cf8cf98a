import { testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../../src/config.js";
import "../../../src/builder/index.js";
import "../../../src/registry/store.js";
import { Image } from "../../../src/image/image.js";
import type { RunningContainer } from "../../../src/container/running-container.js";
import { Volume } from "../../../src/volume/volume.js";
import { ServiceStartupError, UnsupportedComposeError } from "../../../src/stack/errors.js";
import type { StackEvent } from "../../../src/stack/running-stack.js";
import { Stack } from "../../../src/stack/stack.js";
import { hostNetwork } from "../../fixtures/host-program.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { children } from "./stack-checks.js";

const made = new Set<string>();
const before = hostNetwork();

/** Stack volumes still on disk. */
async function stackVolumes(stack: string): Promise<string[]> {
  return (await Volume.list()).filter((v) => v.labels["dev.bento.stack"] === stack).map((v) => v.name);
}

/** Every container id with a directory under the runtime dir or BENTO_HOME (build containers included). */
function containerDirs(): string[] {
  const cfg = config();
  return [join(cfg.runtimeDir, "containers"), join(cfg.home, "containers")].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []));
}

afterEach(async () => {
  expect(leftovers([...made, ...containerDirs()])).toEqual([]);
  made.clear();
  expect(hostNetwork()).toBe(before);
  for (let i = 0; i < 50 && children().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(children()).toEqual([]);
});

/** Records events, and the ids of every container the stack started (for the leak checks). */
function recorder(): { events: StackEvent[]; onProgress: (e: StackEvent) => void; order: (status: string) => string[] } {
  const events: StackEvent[] = [];
  return {
    events,
    onProgress: (e) => {
      events.push(e);
      if (e.id) made.add(e.id);
    },
    order: (status) => events.filter((e) => e.status === status).map((e) => e.service),
  };
}

const busybox = () => Image.fromRootfs(busyboxRootfs());

/** GET / from `host`:`port` inside `from`, with nc (busybox-static's wget crashes on name lookups). */
async function fetchInside(from: RunningContainer, host: string, port: number): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const r = await from.exec(["sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${host} ${port}`]);
    const body = r.stdout.split("\r\n\r\n")[1];
    if (r.exitCode === 0 && body) return body;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error(`could not fetch http://${host}:${port}/`);
}

async function fetchHost(port: number): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const body = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.text(),
      () => "",
    );
    if (body) return body;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}`);
}

describe(`stacks`, () => {
  it("web waits for db's healthcheck, reaches it by name, and is reached from the host through a published port", async () => {
    const rec = recorder();
    const stack = new Stack(`webdb-${process.pid}`)
      .service("db", {
        image: busybox(),
        command: ["sh", "-c", "sleep 0.5; touch /tmp/ready; exec probe http 5432 db-ok"],
        healthcheck: { test: ["CMD", "test", "-f", "/tmp/ready"], intervalMs: 100, retries: 100 },
      })
      .service("web", { image: busybox(), command: ["probe", "http", "8080", "web-ok"], ports: [8080] }, { dependsOn: { db: "healthy" } });
    const running = await stack.up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      expect(running.services).toEqual(["db", "web"]);
      // db reports started only once healthy, and web starts after that.
      const at = (service: string, status: string) => rec.events.findIndex((e) => e.service === service && e.status === status);
      expect(at("db", "started")).toBeLessThan(at("web", "starting"));
      const dbState = (await running.service("db").inspect()).state;
      expect(dbState.health?.status).toBe("healthy");
      expect(Date.parse(dbState.startedAt!)).toBeLessThan(Date.parse((await running.service("web").inspect()).state.startedAt!));
      expect(await fetchInside(running.service("web"), "db", 5432)).toBe("db-ok");
      expect(await fetchInside(running.service("db"), "web", 8080)).toBe("web-ok");
      expect(await fetchHost(running.service("web").hostPort(8080))).toBe("web-ok");
      expect(running.service("web").name).toBe(`webdb-${process.pid}-web-1`);
    } finally {
      await running.down({ timeoutMs: 2000, onProgress: rec.onProgress });
    }
    expect(rec.order("removed").sort()).toEqual(["db", "web"]);
    await expect(running.down()).resolves.toBeUndefined();
  });

  it("completed: the app starts after a one-shot migration exits 0; down stops in reverse order (recorded)", async () => {
    const rec = recorder();
    const img = busybox();
    const stack = new Stack(`chain-${process.pid}`)
      .service("db", { image: img, command: ["sleep", "30"], stopTimeoutMs: 5000 })
      .service("migrate", { image: img, command: ["sh", "-c", "echo migrating; sleep 0.3; echo migrated"] }, { dependsOn: { db: "started" } })
      .service("app", { image: img, command: ["sleep", "30"] }, { dependsOn: { migrate: "completed", db: "started" } })
      .service("worker", { image: img, command: ["sleep", "30"] }, { dependsOn: { app: "started" } })
      .service("lonely", { image: img, command: ["sleep", "30"] });
    const running = await stack.up({ onProgress: rec.onProgress });
    const migrate = (await running.service("migrate").inspect()).state;
    expect([migrate.status, migrate.exitCode]).toEqual(["exited", 0]);
    expect(Date.parse(migrate.finishedAt!)).toBeLessThanOrEqual(Date.parse((await running.service("app").inspect()).state.startedAt!));
    const starts = rec.order("started");
    expect(starts.indexOf("db")).toBeLessThan(starts.indexOf("migrate"));
    expect(starts.indexOf("migrate")).toBeLessThan(starts.indexOf("app"));
    expect(starts.indexOf("app")).toBeLessThan(starts.indexOf("worker"));
    const logs = await running.logs();
    expect(logs).toContain("migrate | migrating\n");
    expect(logs.indexOf("migrate | migrating")).toBeLessThan(logs.indexOf("migrate | migrated"));

    const down: StackEvent[] = [];
    const finished: Record<string, number> = {};
    const ids = Object.fromEntries(running.services.map((s) => [s, running.service(s)]));
    await running.down({
      timeoutMs: 3000,
      onProgress: (e) => {
        down.push(e);
        if (e.status === "stopped") finished[e.service] = e.time;
      },
    });
    const stopping = (s: string) => down.findIndex((e) => e.service === s && e.status === "stopping");
    const stopped = (s: string) => down.findIndex((e) => e.service === s && e.status === "stopped");
    expect(stopped("worker")).toBeLessThan(stopping("app"));
    expect(stopped("app")).toBeLessThan(stopping("migrate"));
    expect(stopped("app")).toBeLessThan(stopping("db"));
    expect(stopped("migrate")).toBeLessThan(stopping("db"));
    expect(finished.worker!).toBeLessThanOrEqual(finished.app!);
    expect(finished.app!).toBeLessThanOrEqual(finished.db!);
    expect(Object.keys(finished).sort()).toEqual(["app", "db", "lonely", "migrate", "worker"]);
    for (const c of Object.values(ids)) made.add(c.id);
  });

  it("a failed migration fails up(): the error names the service, phase, exit code and last log lines; started services are removed", async () => {
    const rec = recorder();
    const img = busybox();
    const stack = new Stack(`failmig-${process.pid}`)
      .service("cache", { image: img, command: ["sleep", "30"] })
      .service("migrate", { image: img, command: ["sh", "-c", "echo applying 0042_orders; echo 'relation orders already exists' >&2; exit 3"] })
      .service("app", { image: img, command: ["sleep", "30"] }, { dependsOn: { migrate: "completed", cache: "started" } });
    const error = await stack.up({ onProgress: rec.onProgress }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartupError);
    const e = error as ServiceStartupError;
    expect([e.code, e.service, e.stackName, e.phase, e.exitCode]).toEqual(["ERR_STARTUP", "migrate", `failmig-${process.pid}`, "wait", 3]);
    expect(e.logTail).toEqual(["applying 0042_orders", "relation orders already exists"]);
    expect(e.message).toMatch(/start service migrate of stack failmig-\d+: wait failed, exit code 3/);
    expect(e.message).toContain("relation orders already exists");
    expect(rec.order("starting")).not.toContain("app");
    expect(rec.order("failed")).toEqual(["migrate"]);
    if (rec.order("started").includes("cache")) expect(rec.order("removed")).toContain("cache");
  });

  it("an unhealthy dependency fails up() with its healthcheck history and logs", async () => {
    const rec = recorder();
    const img = busybox();
    const stack = new Stack(`unhealthy-${process.pid}`)
      .service("db", {
        image: img,
        command: ["sh", "-c", "echo db booting; echo 'FATAL: bad config' >&2; exec sleep 30"],
        healthcheck: { test: ["CMD-SHELL", "echo probe says no; exit 1"], intervalMs: 50, retries: 2 },
      })
      .service("other", { image: img, command: ["sleep", "30"] })
      .service("web", { image: img, command: ["sleep", "30"] }, { dependsOn: { db: "healthy" } });
    const e = (await stack.up({ onProgress: rec.onProgress }).catch((x: unknown) => x)) as ServiceStartupError;
    expect(e).toBeInstanceOf(ServiceStartupError);
    expect([e.service, e.phase]).toEqual(["db", "wait"]);
    expect(e.health?.status).toBe("unhealthy");
    expect(e.logTail).toEqual(["db booting", "FATAL: bad config"]);
    expect(e.message).toContain("probe says no");
    expect(rec.order("starting")).not.toContain("web");
  });

  it("restarts an on-failure service until it stays up; removeVolumes removes its named volume", async () => {
    const rec = recorder();
    const volume = `restart-data-${process.pid}`;
    const stack = new Stack(`restart-${process.pid}`).service(
      "flaky",
      {
        image: busybox(),
        command: ["sh", "-c", "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run $n; [ $n -ge 3 ] && exec sleep 30; exit 1"],
        mounts: [{ volume, target: "/data" }],
      },
      { restart: "on-failure" },
    );
    const running = await stack.up({ onProgress: rec.onProgress });
    for (let i = 0; i < 200 && running.restartCount("flaky") < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(running.restartCount("flaky")).toBe(2);
    for (let i = 0; i < 100 && !(await running.logs()).includes("run 3"); i++) await new Promise((r) => setTimeout(r, 30));
    expect(await running.logs({ services: ["flaky"] })).toBe("flaky | run 1\nflaky | run 2\nflaky | run 3\n");
    expect((await running.service("flaky").inspect()).state.status).toBe("running");
    expect(rec.order("restarting")).toEqual(["flaky", "flaky"]);
    await running.down({ removeVolumes: true, timeoutMs: 1000 });
    expect((await Volume.list()).map((v) => v.name)).not.toContain(volume);
  });

  it("runs a compose file: .env interpolation, named volume, bind mounts, tmpfs, healthy and completed conditions, aliases", async () => {
    const rec = recorder();
    const dir = join(testRoot, `compose-${process.pid}`);
    mkdirSync(join(dir, "conf"), { recursive: true });
    writeFileSync(join(dir, "conf/settings"), "mode=test\n");
    writeFileSync(join(dir, ".env"), "GREETING='hello from env' # comment\n");
    writeFileSync(
      join(dir, "compose.yaml"),
      `
x-busybox: &busybox
  image: busybox:stable
services:
  db:
    <<: *busybox
    command: ["sh", "-c", "echo \\"$$GREETING\\" > /data/greeting; exec probe http 5432 \\"$$(cat /data/greeting)\\""]
    environment:
      GREETING: \${GREETING:?set GREETING}
    volumes: [dbdata:/data]
    networks:
      default:
        aliases: [database]
    healthcheck:
      test: ["CMD-SHELL", "test -s /data/greeting"]
      interval: 100ms
      retries: 50
  migrate:
    <<: *busybox
    command: sh -c 'cat /conf/settings > /out/copied && echo copied'
    volumes: ["./conf:/conf:ro", "./out:/out"]
    depends_on:
      db: { condition: service_healthy }
  web:
    <<: *busybox
    command: ["sh", "-c", "touch /scratch/x && exec probe http 8080 web-ok"]
    ports: ["8080"]
    tmpfs: [/scratch]
    volumes: [/cache]
    depends_on:
      migrate: { condition: service_completed_successfully }
volumes:
  dbdata:
`,
    );
    const project = `composed-${process.pid}`;
    const stack = Stack.fromCompose(join(dir, "compose.yaml"), { env: {}, projectName: project, images: { "busybox:stable": busybox() } });
    expect(stack.services).toEqual(["db", "migrate", "web"]);
    const running = await stack.up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const web = running.service("web");
      expect(await fetchInside(web, "db", 5432)).toBe("hello from env");
      expect(await fetchInside(web, "database", 5432)).toBe("hello from env");
      expect(readFileSync(join(dir, "out/copied"), "utf8")).toBe("mode=test\n");
      expect(await fetchHost(web.hostPort(8080))).toBe("web-ok");
      expect((await web.exec(["sh", "-c", "grep -c ' /scratch tmpfs' /proc/mounts"])).stdout.trim()).toBe("1");
      expect((await Volume.list()).map((v) => v.name)).toContain(`${project}_dbdata`);
      expect(await stackVolumes(project)).toHaveLength(2);
      expect(await running.logs({ services: ["migrate"] })).toBe("migrate | copied\n");
    } finally {
      await running.down({ removeVolumes: true, timeoutMs: 1000 });
    }
    expect(await stackVolumes(project)).toEqual([]);
  });

  it("timeoutMs bounds the whole start: the service still waiting is named, and nothing is left", async () => {
    const rec = recorder();
    const img = busybox();
    const stack = new Stack(`slow-${process.pid}`)
      .service("db", { image: img, command: ["sleep", "30"], healthcheck: { test: ["CMD", "false"], intervalMs: 50, retries: 1_000_000 } })
      .service("web", { image: img, command: ["sleep", "30"] }, { dependsOn: { db: "healthy" } });
    const startedAt = Date.now();
    const e = (await stack.up({ timeoutMs: 1500, onProgress: rec.onProgress }).catch((x: unknown) => x)) as ServiceStartupError;
    expect(e).toBeInstanceOf(ServiceStartupError);
    expect([e.service, e.phase, e.timedOut, e.waitingFor]).toEqual(["db", "wait", true, "the healthcheck to report healthy"]);
    expect(Date.now() - startedAt).toBeLessThan(1500 * config().timeoutScale + 5000);
    expect(rec.order("starting")).toEqual(["db"]);
  });

  it("starts only active profiles, or the services named and what they need", async () => {
    const rec = recorder();
    const yaml =
      "services:\n  app:\n    image: bb\n    command: [sleep, '30']\n  tools:\n    image: bb\n    command: [sleep, '30']\n    profiles: [debug]\n    depends_on: [helper]\n  helper:\n    image: bb\n    command: [sleep, '30']\n    profiles: [other]\n";
    const stack = Stack.fromCompose({ yaml, env: {}, projectName: `profiles-${process.pid}`, images: { bb: busybox() } });
    let running = await stack.up({ onProgress: rec.onProgress });
    expect(running.services).toEqual(["app"]);
    await running.down({ timeoutMs: 500 });
    running = await stack.up({ services: ["tools"], onProgress: rec.onProgress });
    expect(running.services.sort()).toEqual(["helper", "tools"]);
    expect(() => running.service("app")).toThrow(/not a started service/);
    await running.down({ timeoutMs: 500 });
    running = await Stack.fromCompose({ yaml, env: {}, projectName: `profiles-${process.pid}`, images: { bb: busybox() }, profiles: ["debug"] }).up({ onProgress: rec.onProgress });
    expect(running.services.sort()).toEqual(["app", "helper", "tools"]);
    await running.down({ timeoutMs: 500 });
  });

  it("refuses compose keys it cannot honour before creating anything", async () => {
    const stack = Stack.fromCompose({ yaml: "services:\n  a:\n    image: x\n    cgroup_parent: custom\n    networks: [n1, n2]\nnetworks:\n  n1:\n  n2:\n", env: {}, projectName: `refuse-${process.pid}` });
    const e = (await stack.up().catch((x: unknown) => x)) as UnsupportedComposeError;
    expect(e).toBeInstanceOf(UnsupportedComposeError);
    expect(e.keys.map((k) => k.path)).toEqual(["services.a.cgroup_parent", "services.a.networks"]);
    expect(children()).toEqual([]);
  });

  it("builds a build: service from a local Dockerfile", async () => {
    const rec = recorder();
    const tag = `stack-base-${process.pid}:1`;
    await busybox().build({ tag });
    const dir = join(testRoot, `build-${process.pid}`);
    mkdirSync(join(dir, "app"), { recursive: true });
    writeFileSync(join(dir, "app/Dockerfile"), `FROM ${tag} AS base\nARG FLAVOUR=plain\nCOPY greeting.txt /greeting.txt\nRUN echo "built $FLAVOUR" > /built\nFROM base AS prod\nCMD ["probe", "http", "8080", "from-build"]\n`);
    writeFileSync(join(dir, "app/greeting.txt"), "hi\n");
    writeFileSync(join(dir, "compose.yaml"), "services:\n  app:\n    build:\n      context: ./app\n      target: prod\n      args: { FLAVOUR: spicy }\n    ports: ['8080']\n");
    const running = await Stack.fromCompose(join(dir, "compose.yaml"), { env: {}, projectName: `build-${process.pid}` }).up({ onProgress: rec.onProgress, timeoutMs: 120_000 });
    try {
      const app = running.service("app");
      expect((await app.exec(["cat", "/built", "/greeting.txt"])).stdout).toBe("built spicy\nhi\n");
      expect(await fetchHost(app.hostPort(8080))).toBe("from-build");
    } finally {
      await running.down({ timeoutMs: 1000 });
    }
    // A broken Dockerfile fails the service in the build phase.
    writeFileSync(join(dir, "app/Dockerfile"), `FROM ${tag} AS prod\nRUN echo about to fail; exit 9\n`);
    const e = (await Stack.fromCompose(join(dir, "compose.yaml"), { env: {}, projectName: `build-${process.pid}` })
      .up()
      .catch((x: unknown) => x)) as ServiceStartupError;
    expect(e).toBeInstanceOf(ServiceStartupError);
    expect([e.service, e.phase]).toEqual(["app", "build"]);
    expect(e.message).toMatch(/exit code 9/);
    expect(e.message).toContain("about to fail");
  });
});
