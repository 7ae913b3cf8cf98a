import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { runCli } from "../../../src/cli/cli.js";
import { scratchDir } from "../scratch.js";

function capture() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
}

function project(): string {
  const dir = scratchDir("bento-config-");
  writeFileSync(
    join(dir, "compose.yaml"),
    `
name: shop
services:
  web:
    image: "nginx:\${TAG:-1.27}"
    ports: ["8080:80", "0.0.0.0:8443:443", "[::1]:9000:9000/udp"]
    depends_on:
      db: { condition: service_healthy }
    profiles: [front]
  db:
    image: postgres:16
    environment: { POSTGRES_PASSWORD: secret }
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck: { test: ["CMD", "pg_isready"], interval: 1m30s, retries: 5 }
    shm_size: 256m
volumes:
  pgdata:
`,
  );
  writeFileSync(join(dir, "compose.override.yaml"), "services:\n  db:\n    environment: { POSTGRES_DB: app }\n    cgroup_parent: x\n");
  return dir;
}

async function config(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { out, io } = capture();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await runCli(["compose", ...args], io);
    return { code, ...out };
  } finally {
    process.chdir(cwd);
  }
}

describe("bento compose config", () => {
  it("prints the merged, interpolated model in long form, services sorted, bento's port default spelled out", async () => {
    const dir = project();
    const { code, stdout, stderr } = await config(dir, "config");
    expect(code).toBe(0);
    const model = parse(stdout);
    expect(Object.keys(model.services)).toEqual(["db", "web"]);
    expect(model.name).toBe("shop");
    expect(model.services.web.image).toBe("nginx:1.27");
    expect(model.services.web.ports).toEqual([
      { mode: "ingress", target: 80, published: "8080", protocol: "tcp", "x-bento-host-ips": ["127.0.0.1", "::1"] },
      { mode: "ingress", target: 443, published: "8443", protocol: "tcp", host_ip: "0.0.0.0" },
      { mode: "ingress", target: 9000, published: "9000", protocol: "udp", host_ip: "::1" },
    ]);
    expect(model.services.web.depends_on).toEqual({ db: { condition: "service_healthy", required: true } });
    expect(model.services.web.profiles).toEqual(["front"]);
    expect(model.services.db.environment).toEqual({ POSTGRES_PASSWORD: "secret", POSTGRES_DB: "app" });
    expect(model.services.db.healthcheck).toEqual({ test: ["CMD", "pg_isready"], interval: "1m30s", retries: 5 });
    expect(model.services.db.volumes).toEqual([{ type: "volume", source: "pgdata", target: "/var/lib/postgresql/data" }]);
    expect(model.services.db.shm_size).toBe("256m");
    expect(model.volumes).toEqual({ pgdata: { name: "shop_pgdata" } });
    expect(stderr).toMatch(/services\.db\.cgroup_parent: cgroup_parent is not supported/);
  });

  it("prints names with --services, --volumes and --profiles, and JSON with --format json", async () => {
    const dir = project();
    expect((await config(dir, "config", "--services")).stdout).toBe("web\ndb\n");
    expect((await config(dir, "config", "--volumes")).stdout).toBe("pgdata\n");
    expect((await config(dir, "config", "--profiles")).stdout).toBe("front\n");
    expect(JSON.parse((await config(dir, "config", "--services", "--format", "json")).stdout)).toEqual(["web", "db"]);
    expect(JSON.parse((await config(dir, "-f", "compose.yaml", "config", "--format", "json")).stdout).services.db.environment).toEqual({ POSTGRES_PASSWORD: "secret" });
  });

  it("exits 125 (as docker) with the usage for bad flags", async () => {
    const dir = project();
    const format = await config(dir, "config", "--format", "toml");
    expect([format.code, format.stderr.split("\n")[0]]).toEqual([125, 'bento: --format "toml": use yaml or json']);
    const two = await config(dir, "config", "--services", "--volumes");
    expect([two.code, two.stderr.split("\n")[0]]).toEqual([125, "bento: give one of --services, --volumes and --profiles"]);
    const extra = await config(dir, "config", "web");
    expect([extra.code, extra.stderr.split("\n")[0]]).toEqual([125, 'bento: compose config takes no arguments (got "web")']);
  });
});
