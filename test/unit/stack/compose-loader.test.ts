import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ComposeError, DependencyCycleError } from "../../../src/stack/errors.js";
import { loadCompose } from "../../../src/stack/compose/load.js";
import type { StackPlan } from "../../../src/stack/plan.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "bento-compose-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const load = (yaml: string, env: Record<string, string> = {}): StackPlan => loadCompose({ yaml, env, projectDir: "/proj", projectName: "p" });
const service = (yaml: string, env: Record<string, string> = {}) => load(`services:\n  s:\n${yaml.replace(/^/gm, "    ")}\n`, env).services.s!;

function composeError(fn: () => unknown): ComposeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error("expected a ComposeError");
}

describe("YAML", () => {
  it("is read as YAML 1.2 core: 22:22, yes and no stay strings", () => {
    const s = service(`image: x\nports: [22:22]\nenvironment:\n  A: yes\n  B: no\n  C: 0o17\n  D: 1.5\nrestart: no`);
    expect(s.options.ports).toEqual([{ container: 22, host: 22, protocol: "tcp" }]);
    expect(s.options.env).toEqual({ A: "yes", B: "no", C: "15", D: "1.5" });
    expect(s.restart).toEqual({ policy: "no" });
  });

  it("merges << keys and ignores x- extensions", () => {
    const plan = load(`
x-common: &common
  image: base:1
  environment: { A: "1", B: "2" }
  x-note: ignored
services:
  a:
    <<: *common
    environment: { A: "override" }
  b:
    <<: [*common]
    x-team: qa
`);
    expect(plan.services.a!.image).toBe("base:1");
    expect(plan.services.a!.options.env).toEqual({ A: "override" });
    expect(plan.services.b!.options.env).toEqual({ A: "1", B: "2" });
    expect(plan.unsupported).toEqual([]);
  });

  it("locates syntax errors and duplicate keys", () => {
    const e = composeError(() => load("services:\n  a:\n    image: x\n  a:\n    image: y\n"));
    expect([e.code, e.line]).toEqual(["ERR_COMPOSE_YAML", 4]);
    expect(composeError(() => load("services: [\n")).code).toBe("ERR_COMPOSE_YAML");
    expect(composeError(() => load("- a\n- b\n")).code).toBe("ERR_COMPOSE_SCHEMA");
    expect(composeError(() => load("name: x\n")).message).toMatch(/defines no services/);
  });
});

describe("interpolation and .env", () => {
  it("interpolates every value, not keys, and warns once per unset variable", () => {
    const plan = load(`services:\n  web:\n    image: "nginx:\${TAG:-1.27}"\n    environment:\n      \${KEY}: "$X $X"\n      PRICE: "$$5"\n`);
    expect(plan.services.web!.image).toBe("nginx:1.27");
    expect(plan.services.web!.options.env).toEqual({ "${KEY}": " ", PRICE: "$5" });
    expect(plan.warnings).toEqual(['the "X" variable is not set (first used at services.web.environment["${KEY}"]); defaulting to a blank string']);
  });

  it("fails ${VAR:?} with the path and line of the value", () => {
    const e = composeError(() => load("services:\n  db:\n    image: postgres\n    environment:\n      PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}\n"));
    expect([e.code, e.path, e.line, e.file]).toEqual(["ERR_COMPOSE_VARIABLE", "services.db.environment.PASSWORD", 5, "<inline>"]);
    expect(e.message).toMatch(/required variable DB_PASSWORD is missing a value: set DB_PASSWORD/);
    expect(composeError(() => load("services:\n  a:\n    image: $1\n")).message).toMatch(/escape any \$ with another \$/);
  });

  it("reads .env next to the file; the environment wins; envFile replaces it", () => {
    const dir = project({
      "compose.yaml": "services:\n  web:\n    image: app:${TAG}\n    environment: [MODE, ONLY_ENV]\n",
      ".env": "TAG=1 # from .env\nMODE='from file'\n",
      "other.env": "TAG=2\n",
    });
    const file = join(dir, "compose.yaml");
    expect(loadCompose(file, { env: {} }).services.web!.image).toBe("app:1");
    expect(loadCompose(file, { env: {} }).services.web!.options.env).toEqual({ MODE: "from file" });
    expect(loadCompose(file, { env: { TAG: "9", ONLY_ENV: "e" } }).services.web!.options).toMatchObject({ env: { MODE: "from file", ONLY_ENV: "e" } });
    expect(loadCompose(file, { env: { TAG: "9" } }).services.web!.image).toBe("app:9");
    expect(loadCompose(file, { env: {}, envFile: join(dir, "other.env") }).services.web!.image).toBe("app:2");
    expect(loadCompose(file, { env: {}, envFile: false }).services.web!.image).toBe("app:");
    expect(composeError(() => loadCompose(file, { env: {}, envFile: join(dir, "nope.env") })).code).toBe("ERR_COMPOSE_FILE");
    expect(loadCompose(file, { env: {} }).name).toBe(
      dir
        .split("/")
        .pop()!
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, ""),
    );
  });

  it("reads env_file entries, with environment overriding them", () => {
    const dir = project({
      "compose.yaml": "services:\n  web:\n    image: x\n    env_file: [a.env, { path: missing.env, required: false }]\n    environment: { B: from-environment }\n",
      "a.env": "A=1\nB=2\nC=${HOST_VAR}\n",
    });
    expect(loadCompose(join(dir, "compose.yaml"), { env: { HOST_VAR: "h" } }).services.web!.options.env).toEqual({ A: "1", B: "from-environment", C: "h" });
    const missing = project({ "compose.yaml": "services:\n  web:\n    image: x\n    env_file: nope.env\n" });
    const e = composeError(() => loadCompose(join(missing, "compose.yaml"), { env: {} }));
    expect([e.code, e.path]).toEqual(["ERR_COMPOSE_FILE", "services.web.env_file"]);
  });

  it("fails on a missing compose file with the path", () => {
    const e = composeError(() => loadCompose("/nonexistent/compose.yaml"));
    expect(e.code).toBe("ERR_COMPOSE_FILE");
    expect(e.message).toMatch(/\/nonexistent\/compose.yaml: cannot read the compose file \(ENOENT\)/);
  });
});

describe("service keys", () => {
  it("maps every supported key into ContainerOptions and the plan", () => {
    const plan = load(
      `
services:
  db:
    image: postgres:16
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U app"]
      interval: 1s
      timeout: 500ms
      retries: 5
      start_period: 1m30s
      start_interval: 100ms
  migrate:
    build: ./migrations
    depends_on: [db]
  web:
    build:
      context: app
      dockerfile: docker/Dockerfile.prod
      args: [VERSION=2, FROM_ENV]
      target: prod
    command: npm run "start server"
    entrypoint: ["/usr/bin/tini", "--"]
    environment:
      - MODE=test
      - EMPTY=
    ports:
      - 8080
      - "3000-3001:4000-4001"
      - "127.0.0.1:9000:90/udp"
      - target: 5432
        published: "15432"
        protocol: tcp
        host_ip: 127.0.0.1
    expose: ["7000", "53/udp", 9000-9001]
    volumes:
      - data:/var/lib/data
      - /anon
      - ./src:/app/src:ro
      - ~/cache:/cache
      - type: bind
        source: ./conf
        target: /etc/app
        read_only: true
      - type: volume
        target: /anon2
      - type: tmpfs
        target: /scratch
        tmpfs: { size: 64m, mode: 1770 }
    tmpfs: [/run, "/tmp:size=1m,mode=777"]
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully, required: true }
    working_dir: /app
    user: "1000:1000"
    hostname: web-host
    container_name: web-1
    labels: [team=qa, "tier=front"]
    networks:
      back:
        aliases: [www, site]
      default:
    deploy:
      replicas: 1
      resources:
        limits: { memory: 512M, cpus: "0.5", pids: 100 }
    restart: on-failure:3
    profiles: [debug]
    init: false
    stop_signal: SIGINT
    stop_grace_period: 2s
    read_only: "true"
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
volumes:
  data:
networks:
  back:
`,
      { FROM_ENV: "e" },
    );
    expect(plan.unsupported).toEqual([]);
    expect(plan.services.db!.options.healthcheck).toEqual({ test: ["CMD-SHELL", "pg_isready -U app"], intervalMs: 1000, timeoutMs: 500, retries: 5, startPeriodMs: 90_000, startIntervalMs: 100 });
    expect(plan.services.migrate!.build).toEqual({ context: "/proj/migrations", args: {} });
    expect(plan.services.migrate!.dependsOn).toEqual({ db: { condition: "started", required: true } });
    const web = plan.services.web!;
    expect(web.build).toEqual({ context: "/proj/app", dockerfile: "/proj/app/docker/Dockerfile.prod", args: { VERSION: "2", FROM_ENV: "e" }, target: "prod" });
    expect(web.options).toEqual({
      command: ["npm", "run", "start server"],
      entrypoint: ["/usr/bin/tini", "--"],
      env: { MODE: "test", EMPTY: "" },
      ports: [
        { container: 8080, protocol: "tcp" },
        { container: 4000, host: 3000, protocol: "tcp" },
        { container: 4001, host: 3001, protocol: "tcp" },
        { container: 90, host: 9000, protocol: "udp", hostIp: "127.0.0.1" },
        { container: 5432, host: 15432, protocol: "tcp", hostIp: "127.0.0.1" },
      ],
      mounts: [{ tmpfs: "/scratch", sizeBytes: 64 * 1024 * 1024, mode: 0o1770 }, { tmpfs: "/run" }, { tmpfs: "/tmp", sizeBytes: 1024 * 1024, mode: 0o777 }],
      workdir: "/app",
      user: "1000:1000",
      hostname: "web-host",
      name: "web-1",
      labels: { team: "qa", tier: "front" },
      init: false,
      readonlyRootfs: true,
      capAdd: ["NET_ADMIN"],
      capDrop: ["MKNOD"],
      stopSignal: "SIGINT",
      stopTimeoutMs: 2000,
      resources: { memory: 512 * 1024 * 1024, cpus: 0.5, pids: 100 },
    });
    expect(web.expose).toEqual(["7000/tcp", "53/udp", "9000/tcp", "9001/tcp"]);
    expect(web.volumes).toEqual([
      { type: "volume", source: "data", target: "/var/lib/data", readOnly: false, path: "services.web.volumes[0]" },
      { type: "volume", target: "/anon", readOnly: false, path: "services.web.volumes[1]" },
      { type: "bind", source: "/proj/src", target: "/app/src", readOnly: true, createHostPath: true, path: "services.web.volumes[2]" },
      { type: "bind", source: join(homedir(), "cache"), target: "/cache", readOnly: false, createHostPath: true, path: "services.web.volumes[3]" },
      { type: "bind", source: "/proj/conf", target: "/etc/app", readOnly: true, createHostPath: false, path: "services.web.volumes[4]" },
      { type: "volume", target: "/anon2", readOnly: false, path: "services.web.volumes[5]" },
    ]);
    expect(web.dependsOn).toEqual({ db: { condition: "healthy", required: true }, migrate: { condition: "completed", required: true } });
    expect(web.networks).toEqual({ back: { aliases: ["www", "site"] }, default: { aliases: [] } });
    expect(web.restart).toEqual({ policy: "on-failure", maxRetries: 3 });
    expect(web.profiles).toEqual(["debug"]);
    expect(plan.volumes).toEqual({ data: { name: "p_data", external: false, labels: {} } });
    expect(plan.networks).toEqual({ back: { name: "p_back", external: false, labels: {} }, default: { name: "p_default", external: false, labels: {} } });
  });

  it("command and entrypoint: strings are split like compose, lists kept, null ignored", () => {
    expect(service("image: x\ncommand: sh -c 'echo $$HOME'").options.command).toEqual(["sh", "-c", "echo $HOME"]);
    expect(service("image: x\nentrypoint: /bin/sh -c").options.entrypoint).toEqual(["/bin/sh", "-c"]);
    expect(service('image: x\nentrypoint: ""').options.entrypoint).toEqual([]);
    expect(service("image: x\ncommand: null").options.command).toBeUndefined();
    expect(composeError(() => service("image: x\ncommand: echo 'oops")).path).toBe("services.s.command");
  });

  it("environment: map values of any scalar type, null and bare names from the environment", () => {
    expect(service("image: x\nenvironment:\n  N: 1\n  B: true\n  FROM: null\n  GONE:\n", { FROM: "env" }).options.env).toEqual({ N: "1", B: "true", FROM: "env" });
    expect(service("image: x\nenvironment: [A=1=2, FROM, GONE]", { FROM: "env" }).options.env).toEqual({ A: "1=2", FROM: "env" });
  });

  it("healthcheck forms: string, CMD, CMD-SHELL, NONE, disable, timings only", () => {
    expect(service("image: x\nhealthcheck:\n  test: curl -f localhost").options.healthcheck).toEqual({ test: ["CMD-SHELL", "curl -f localhost"] });
    expect(service("image: x\nhealthcheck:\n  test: [CMD, wget, -q, localhost]").options.healthcheck).toEqual({ test: ["CMD", "wget", "-q", "localhost"] });
    expect(service("image: x\nhealthcheck:\n  test: [NONE]").options.healthcheck).toEqual({ test: ["NONE"] });
    expect(service("image: x\nhealthcheck:\n  disable: true").options.healthcheck).toEqual({ test: ["NONE"] });
    expect(service("image: x\nhealthcheck:\n  interval: 2s\n  retries: '4'").options.healthcheck).toEqual({ intervalMs: 2000, retries: 4 });
    expect(composeError(() => service("image: x\nhealthcheck:\n  test: [curl, x]")).path).toBe("services.s.healthcheck.test");
    expect(composeError(() => service("image: x\nhealthcheck:\n  test: [CMD, x]\n  disable: true")).message).toMatch(/cannot both be set/);
    expect(composeError(() => service("image: x\nhealthcheck:\n  interval: 10")).message).toMatch(/expected a duration such as "30s"/);
    expect(composeError(() => service("image: x\nhealthcheck:\n  interval: 10x")).message).toMatch(/not a duration/);
  });

  it("restart policies and profiles", () => {
    expect(service("image: x\nrestart: on-failure").restart).toEqual({ policy: "on-failure" });
    expect(service("image: x\nrestart: always").restart).toEqual({ policy: "always" });
    expect(service("image: x\nrestart: unless-stopped").restart).toEqual({ policy: "unless-stopped" });
    expect(composeError(() => service("image: x\nrestart: sometimes")).path).toBe("services.s.restart");
  });

  it("network_mode host, none, slirp4netns and pasta become the container's network", () => {
    expect(service("image: x\nnetwork_mode: host").options.network).toBe("host");
    expect(service("image: x\nnetwork_mode: none").networks).toEqual({});
    expect(service("image: x\nnetwork_mode: pasta").options.network).toBe("pasta");
    expect(service("image: x\nnetwork_mode: slirp4netns").options.network).toBe("slirp4netns");
    expect(composeError(() => service("image: x\nnetwork_mode: host\nnetworks: [a]")).message).toMatch(/cannot both be set/);
  });

  it("legacy limits keys, with deploy limits taking precedence", () => {
    expect(service("image: x\nmem_limit: 1g\ncpus: 2\npids_limit: 50\ncpu_shares: 512").options.resources).toEqual({ memory: 1024 ** 3, cpus: 2, pids: 50, cpuShares: 512 });
    expect(service("image: x\nmem_limit: 1g\ndeploy:\n  resources:\n    limits:\n      memory: 64m").options.resources).toEqual({ memory: 64 * 1024 ** 2 });
  });
});

describe("values that cannot be used name their key and line", () => {
  it.each([
    ["image: x\nports: ['80:90:100:1']", "services.s.ports[0]", /not an IP address/],
    ["image: x\nports: ['70000']", "services.s.ports[0]", /1-65535/],
    ["image: x\nports: ['8000-8001:80-82']", "services.s.ports[0]", /same length/],
    ["image: x\nports: ['80/sctpx']", "services.s.ports[0]", /not a protocol/],
    ["image: x\nvolumes: ['data:/d']", "services.s.volumes[0]", /undefined volume "data"/],
    ["image: x\nvolumes: ['./x:rel']", "services.s.volumes[0]", /absolute path/],
    ["image: x\nvolumes: ['./x:/y:rx']", "services.s.volumes[0]", /not a volume mode/],
    ["image: x\nnetworks: [nope]", "services.s.networks[0]", /undefined network "nope"/],
    ["image: x\ndepends_on: [ghost]", "services.s.depends_on.ghost", /undefined service "ghost"/],
    ["image: x\ndeploy:\n  resources:\n    limits:\n      memory: 1q", "services.s.deploy.resources.limits.memory", /not a size/],
    ["image: x\ndeploy:\n  resources:\n    limits:\n      memory: 1k", "services.s.deploy.resources.limits", /minimum of 6m/],
    ["image: x\nstop_signal: SIGNOPE", "services.s.stop_signal", /not a signal/],
    ["image: x\nworking_dir: app", "services.s.working_dir", /absolute path/],
    ["image: x\ncap_add: [NOT_A_CAP]", "services.s.cap_add", /NOT_A_CAP/],
    ["image: x\ncontainer_name: -bad", "services.s.container_name", /letters, digits/],
    ["image: ''", "services.s.image", /image is empty/],
    ["command: x", "services.s", /neither image nor build/],
  ])("%s", (yaml, path, message) => {
    const e = composeError(() => service(yaml));
    expect(e.code).toBe("ERR_COMPOSE_VALUE");
    expect(e.path).toBe(path);
    expect(e.message).toMatch(message);
    expect(e.line).toBeGreaterThanOrEqual(3);
  });

  it("schema errors: unknown keys with a suggestion, wrong types with the expected shape", () => {
    let e = composeError(() => load("services:\n  web:\n    imgae: nginx\n"));
    expect([e.code, e.path, e.line]).toEqual(["ERR_COMPOSE_SCHEMA", "services.web.imgae", 3]);
    expect(e.message).toMatch(/unknown key "imgae" \(did you mean "image"\?\)/);
    e = composeError(() => load("services:\n  web:\n    image: x\n    ports: [{ published: 80 }]\n"));
    expect(e.path).toBe("services.web.ports[0].target");
    expect(e.message).toMatch(/missing the key "target"/);
    e = composeError(() => load("services:\n  web:\n    image: x\n    healthcheck:\n      retries: many\n"));
    expect([e.path, e.line]).toEqual(["services.web.healthcheck.retries", 5]);
    expect(e.message).toMatch(/got string "many"; expected the number of consecutive failures/);
    e = composeError(() => load("services:\n  web:\n    image: x\n    depends_on:\n      db: { condition: service_ready }\n  db:\n    image: y\n"));
    expect(e.path).toBe("services.web.depends_on.db.condition");
    expect(e.message).toMatch(/service_started, service_healthy or service_completed_successfully/);
    e = composeError(() => load("services:\n  web:\n    build: 5\n"));
    expect(e.message).toMatch(/got number 5; expected a context path/);
    e = composeError(() => load("services:\n  'bad name':\n    image: x\n"));
    expect(e.path).toBe('services["bad name"]');
    e = composeError(() => load("servics: {}\n"));
    expect(e.message).toMatch(/did you mean "services"/);
  });

  it("project names: explicit ones are checked, directory names are normalized", () => {
    expect(load("name: My-App\nservices:\n  a: { image: x }\n").name).toBe("p");
    expect(loadCompose({ yaml: "name: app_1\nservices:\n  a: { image: x }\n", env: {} }).name).toBe("app_1");
    expect(composeError(() => loadCompose({ yaml: "name: My-App\nservices:\n  a: { image: x }\n", env: {} })).path).toBe("name");
    expect(composeError(() => loadCompose({ yaml: "services:\n  a: { image: x }\n", projectName: "Bad!" })).path).toBe("projectName");
    expect(loadCompose({ yaml: "services:\n  a: { image: x }\n", projectDir: "/x/My.Project!", env: {} }).name).toBe("myproject");
  });

  it("validates the raw document against a spec schema file when given one", () => {
    const dir = project({ "schema.json": JSON.stringify({ type: "object", properties: { services: { type: "object", maxProperties: 1 } } }) });
    const yaml = "services:\n  a: { image: x }\n  b: { image: y }\n";
    const e = composeError(() => loadCompose({ yaml, env: {}, schema: join(dir, "schema.json") }));
    expect([e.code, e.path]).toEqual(["ERR_COMPOSE_SCHEMA", "services"]);
    expect(e.message).toMatch(/does not match the schema/);
  });
});

describe("dependencies", () => {
  it("names a cycle in file order, and a self-dependency", () => {
    expect(() => load("services:\n  a: { image: x, depends_on: [b] }\n  b: { image: x, depends_on: [c] }\n  c: { image: x, depends_on: [a] }\n")).toThrow("dependency cycle detected: a -> b -> c -> a");
    try {
      load("services:\n  solo: { image: x, depends_on: [solo] }\n");
    } catch (e) {
      expect(e).toBeInstanceOf(DependencyCycleError);
      expect((e as DependencyCycleError).cycle).toEqual(["solo", "solo"]);
      expect((e as DependencyCycleError).code).toBe("ERR_STACK_CYCLE");
    }
  });

  it("drops an optional dependency on an undefined service with a warning", () => {
    const plan = load("services:\n  a:\n    image: x\n    depends_on:\n      ghost: { condition: service_started, required: false }\n");
    expect(plan.services.a!.dependsOn).toEqual({});
    expect(plan.warnings[0]).toMatch(/undefined service "ghost" \(required: false\)/);
  });
});

describe("unsupported keys are reported with their path, never dropped", () => {
  it("lists each one, and loading still succeeds", () => {
    const plan = load(`
version: "3.9"
services:
  a:
    image: x
    cgroup_parent: custom
    tty: false
    secrets: [pw]
    platform: linux/arm64
    logging: { driver: json-file }
    deploy:
      replicas: 3
      resources:
        reservations: { memory: 1g }
      restart_policy: { condition: on-failure }
    ports: ["0.0.0.0:80:80", "81:81", "82:81", "82:80/sctp", "127.0.0.1:83:83"]
    volumes: ["./x:/x:z", { type: npipe, source: p, target: /p }]
    tmpfs: ["/t:uid=1000"]
    network_mode: "container:b"
    build:
      context: .
      cache_from: [x]
    depends_on:
      b: { condition: service_started, restart: true }
  b:
    image: y
    networks:
      n: { ipv4_address: 10.0.0.2 }
networks:
  n:
    driver: overlay
    ipam: { config: [{ subnet: 10.0.0.0/24 }] }
volumes:
  v: { driver: nfs }
secrets:
  pw: { external: true }
`);
    expect(plan.unsupported.map((u) => u.path)).toEqual([
      "networks.n.driver",
      "networks.n.ipam",
      "volumes.v.driver",
      "secrets.pw.external",
      "services.a.cgroup_parent",
      "services.a.platform",
      "services.a.build.cache_from",
      "services.a.ports[2]",
      "services.a.ports[3]",
      "services.a.volumes[0]",
      "services.a.volumes[1].type",
      "services.a.tmpfs[0]",
      "services.a.depends_on.b.restart",
      "services.a.network_mode",
      "services.a.deploy.restart_policy",
      "services.a.deploy.replicas",
      "services.a.deploy.resources.reservations",
      "services.b.networks.n.ipv4_address",
    ]);
    expect(plan.unsupported.find((u) => u.path === "services.a.ports[2]")!.reason).toMatch(/already published by ports\[1\]/);
    expect(plan.warnings).toEqual(["the top-level version key is obsolete and ignored", "service a: logging is ignored: bento keeps each container's output itself (logs(), bento logs)"]);
    expect(plan.services.a!.options.ports).toEqual([
      { container: 80, host: 80, protocol: "tcp", hostIp: "0.0.0.0" },
      { container: 81, host: 81, protocol: "tcp" },
      { container: 83, host: 83, protocol: "tcp", hostIp: "127.0.0.1" },
    ]);
  });
});
