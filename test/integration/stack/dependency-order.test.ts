import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Stack } from "../../../src/stack/stack.js";
import { busybox, checkNothingLeaks, fetchHost, recorder } from "./stack-checks.js";

checkNothingLeaks();

/** Writes the time (µs since the epoch, from the container's clock) to /shared/<name>. */
const mark = (name: string) => `echo $$EPOCHREALTIME > /shared/${name}`;
/** Records SIGTERM's arrival (set first, so a recorded start means the trap is in place). */
const onTerm = (service: string) => `trap '${mark(`${service}.stop`)}; exit 0' TERM`;
const forever = "while :; do sleep 0.05; done";

/**
 * A 4-service graph with the three conditions: db must be healthy for migrate and api, migrate
 * must complete for api, and api must have started for web.
 */
function serviceYaml(shared: string): Record<string, string> {
  const common = `    image: bb\n    volumes: ["${shared}:/shared"]\n`;
  return {
    db: `  db:\n${common}    command: ["sh", "-c", "${onTerm("db")}; ${mark("db.start")}; sleep 0.3; ${mark("db.healthy")}; touch /tmp/ready; ${forever}"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/tmp/ready"]\n      interval: 50ms\n      retries: 200\n`,
    migrate: `  migrate:\n${common}    command: ["sh", "-c", "${mark("migrate.start")}; sleep 0.3; ${mark("migrate.completed")}"]\n    depends_on:\n      db: { condition: service_healthy }\n`,
    api: `  api:\n${common}    command: ["sh", "-c", "${onTerm("api")}; ${mark("api.start")}; ${forever}"]\n    depends_on:\n      migrate: { condition: service_completed_successfully }\n      db: { condition: service_healthy }\n`,
    web: `  web:\n${common}    command: ["sh", "-c", "${onTerm("web")}; ${mark("web.start")}; ${forever}"]\n    depends_on: [api]\n`,
  };
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** Ups and downs one declaration order; returns the times the containers recorded. */
async function runOrder(order: readonly string[], index: number): Promise<(name: string) => number> {
  const shared = join(testRoot, `order-${index}`);
  mkdirSync(shared, { recursive: true });
  const bodies = serviceYaml(shared);
  const yaml = `services:\n${order.map((s) => bodies[s]).join("")}`;
  const rec = recorder();
  const stack = Stack.fromCompose({ yaml, env: {}, projectName: `order-${process.pid}-${index}`, images: { bb: busybox() } });
  expect(stack.services).toEqual(order);
  const running = await stack.up({ timeoutMs: 60_000, onProgress: rec.onProgress });
  // "Started" means web's command runs; let it get as far as recording that before the signal.
  for (let i = 0; i < 200 && !existsSync(join(shared, "web.start")); i++) await new Promise((r) => setTimeout(r, 20));
  await running.down({ timeoutMs: 5_000 });
  return (name) => {
    const text = readFileSync(join(shared, name), "utf8").trim();
    return Math.round(Number(text) * 1e6);
  };
}

describe(`dependency order`, () => {
  it("every declaration order of a 4-service graph starts each service after its dependency's condition held, and downs in reverse", async () => {
    const orders = permutations(["web", "api", "migrate", "db"]);
    expect(orders).toHaveLength(24);
    // A few stacks at a time: each order is its own project with its own network.
    for (let i = 0; i < orders.length; i += 4) {
      const batch = orders.slice(i, i + 4);
      const times = await Promise.all(batch.map((order, j) => runOrder(order, i + j)));
      times.forEach((at, j) => {
        const label = batch[j]!.join(",");
        // service_healthy: db's healthcheck can pass only after it marked itself healthy.
        expect(at("migrate.start"), `${label}: migrate after db healthy`).toBeGreaterThan(at("db.healthy"));
        expect(at("api.start"), `${label}: api after db healthy`).toBeGreaterThan(at("db.healthy"));
        // service_completed_successfully: api after migrate's last command.
        expect(at("api.start"), `${label}: api after migrate completed`).toBeGreaterThan(at("migrate.completed"));
        // service_started: web after api's command began.
        expect(at("web.start"), `${label}: web after api started`).toBeGreaterThan(at("api.start"));
        // down: a dependency is stopped only once its dependents have stopped.
        expect(at("api.stop"), `${label}: api stops after web`).toBeGreaterThan(at("web.stop"));
        expect(at("db.stop"), `${label}: db stops after api`).toBeGreaterThan(at("api.stop"));
      });
    }
  }, 600_000);

  it("a web service listed before its database serves, through a published port, a page it read from the database once healthy", async () => {
    const rec = recorder();
    // web reads the page once, at start, with no retry: it works only if db was healthy first.
    const yaml = `
services:
  web:
    image: bb
    command: ["sh", "-c", "page=$$(printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc db 5432 | sed '1,/^\\\\r$$/d'); exec probe http 8080 \\"from-db:$$page\\""]
    ports: ["8080"]
    depends_on:
      db:
        condition: service_healthy
  db:
    image: bb
    command: ["sh", "-c", "sleep 0.5; echo 'row 42' > /tmp/table; exec probe http 5432 \\"$$(cat /tmp/table)\\""]
    healthcheck:
      test: ["CMD-SHELL", "printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc 127.0.0.1 5432 | grep -q 'row 42'"]
      interval: 100ms
      retries: 100
`;
    const stack = Stack.fromCompose({ yaml, env: {}, projectName: `webfirst-${process.pid}`, images: { bb: busybox() } });
    expect(stack.services).toEqual(["web", "db"]);
    const running = await stack.up({ timeoutMs: 60_000, onProgress: rec.onProgress });
    try {
      expect(rec.order("started")).toEqual(["db", "web"]);
      expect(await fetchHost(running.service("web").hostPort(8080))).toBe("from-db:row 42");
    } finally {
      await running.down({ timeoutMs: 2_000, onProgress: rec.onProgress });
    }
    expect(rec.order("removed")).toEqual(["web", "db"]);
  });
});
