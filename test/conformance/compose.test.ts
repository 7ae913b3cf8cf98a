/**
 * Compose conformance over shared/corpora/compose (see its README.md): every awesome-compose
 * project validates against the specification's schema (2020-12 and draft-07 copies) and loads;
 * `expected-summary.json` matches what the loader sees; the compose-go fixtures give their expected
 * outcomes (dependency cycles named, the all-variables file valid before interpolation and
 * interpolated value by value). The corpus is read in place, never copied.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DependencyCycleError } from "../../src/stack/errors.js";
import { interpolateDocument } from "../../src/stack/compose/interpolate.js";
import { loadCompose } from "../../src/stack/compose/load.js";
import { validateWithSchemaFile } from "../../src/stack/compose/validate.js";
import { withDependencies } from "../../src/stack/graph.js";
import type { StackPlan } from "../../src/stack/plan.js";
import { corpusDir } from "./corpora.js";

const corpus = corpusDir("compose");
const spec2020 = join(corpus, "schema/compose-spec.json");
const spec07 = join(corpus, "schema/compose-spec.draft-07.json");
const projects = join(corpus, "awesome-compose");

interface ServiceSummary {
  image: string | null;
  build: string | { context?: string; target?: string; dockerfile?: string } | null;
  depends_on: string[];
}
interface ProjectSummary {
  file: string;
  hasDotEnv: boolean;
  topLevelKeys: string[];
  services: Record<string, ServiceSummary>;
  networks: string[];
  volumes: string[];
  secrets: string[];
  configs: string[];
  schemaValidRaw: boolean;
}

const counts = { projects: 0, projectsPassed: 0, fieldChecks: 0, fixtures: 0, fixturesPassed: 0, interpolated: 0 };

afterAll(() => {
  console.log(
    `compose conformance: ${counts.projectsPassed}/${counts.projects} awesome-compose projects validate and load, ` +
      `${counts.fieldChecks} expected-summary.json checks matched; ${counts.fixturesPassed}/${counts.fixtures} compose-go fixtures ` +
      `(${counts.interpolated} values interpolated in using-variables.yaml)`,
  );
});

/** Start order by repeated passes; every service placed means there is no cycle. */
function startOrder(plan: StackPlan): string[] {
  const order: string[] = [];
  const pending = new Set(Object.keys(plan.services));
  while (pending.size > 0) {
    const ready = [...pending].filter((s) => Object.keys(plan.services[s]!.dependsOn).every((d) => order.includes(d)));
    if (ready.length === 0) throw new Error(`no start order for ${[...pending].join(", ")}`);
    for (const s of ready) {
      order.push(s);
      pending.delete(s);
    }
  }
  return order;
}

describe("awesome-compose projects", () => {
  const summary = JSON.parse(readFileSync(join(projects, "expected-summary.json"), "utf8")) as Record<string, ProjectSummary>;

  it("the summary covers every project directory", () => {
    const dirs = readdirSync(projects, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(Object.keys(summary).sort()).toEqual(dirs);
    expect(dirs).toHaveLength(18);
  });

  for (const [project, expected] of Object.entries(summary)) {
    it(`${project}: validates, loads, and matches expected-summary.json`, () => {
      counts.projects++;
      const file = join(projects, expected.file);
      const raw = parse(readFileSync(file, "utf8"), { version: "1.2", merge: true }) as Record<string, unknown>;
      let checks = 0;
      const check = (actual: unknown, wanted: unknown, what: string) => {
        expect(actual, `${project}: ${what}`).toEqual(wanted);
        checks++;
      };

      check(validateWithSchemaFile(raw, spec2020) === undefined, expected.schemaValidRaw, "valid against compose-spec.json");
      check(validateWithSchemaFile(raw, spec07) === undefined, expected.schemaValidRaw, "valid against compose-spec.draft-07.json");
      check(existsSync(join(projects, project, ".env")), expected.hasDotEnv, ".env present");
      check(Object.keys(raw).sort(), expected.topLevelKeys, "top-level keys");

      const plan = loadCompose(file, { env: {}, schema: spec2020 });
      check(Object.keys(plan.services).sort(), Object.keys(expected.services).sort(), "service names");
      for (const [name, svc] of Object.entries(expected.services)) {
        const got = plan.services[name]!;
        check(got.image ?? null, svc.image, `${name}.image`);
        check(Object.keys(got.dependsOn).sort(), svc.depends_on, `${name}.depends_on`);
        if (svc.build === null) {
          check(got.build, undefined, `${name}.build`);
        } else {
          const b = typeof svc.build === "string" ? { context: svc.build } : svc.build;
          const context = resolve(plan.projectDir, b.context ?? ".");
          check(got.build?.context, context, `${name}.build.context`);
          check(got.build?.target, b.target, `${name}.build.target`);
          check(got.build?.dockerfile, b.dockerfile === undefined ? undefined : resolve(context, b.dockerfile), `${name}.build.dockerfile`);
        }
      }
      // The implicit default network is added by the loader, and not listed by the summary.
      const declaredDefault = Object.hasOwn((raw.networks as object | undefined) ?? {}, "default");
      check(
        Object.keys(plan.networks)
          .filter((n) => n !== "default" || declaredDefault)
          .sort(),
        expected.networks,
        "networks",
      );
      check(Object.keys(plan.volumes).sort(), expected.volumes, "volumes");
      check(Object.keys(plan.secrets).sort(), [...expected.secrets].sort(), "secrets");
      check(Object.keys(plan.configs).sort(), [...expected.configs].sort(), "configs");
      for (const key of expected.topLevelKeys) {
        const modelled = ["services", "networks", "volumes", "secrets", "configs", "name"].includes(key);
        const reported = plan.unsupported.some((u) => u.path === key) || (key === "version" && plan.warnings.some((w) => w.includes("version")));
        check(modelled || reported, true, `top-level ${key} modelled or reported`);
      }
      const order = startOrder(plan);
      check(order.length, Object.keys(expected.services).length, "a start order exists");
      for (const [name, svc] of Object.entries(expected.services)) {
        for (const dep of svc.depends_on) check(order.indexOf(dep) < order.indexOf(name), true, `${dep} starts before ${name}`);
        check(withDependencies(new Map(Object.entries(plan.services).map(([n, s]) => [n, Object.keys(s.dependsOn)])), [name]).sort(), [...new Set([name, ...closure(expected.services, name)])].sort(), `${name} needs`);
      }
      counts.fieldChecks += checks;
      counts.projectsPassed++;
    });
  }

  function closure(services: Record<string, ServiceSummary>, name: string): string[] {
    const out: string[] = [];
    for (const d of services[name]?.depends_on ?? []) out.push(d, ...closure(services, d));
    return out;
  }

  it("plex: the volume source comes from .env", () => {
    const plan = loadCompose(join(projects, "plex/compose.yaml"), { env: {} });
    expect(plan.services.plex!.volumes.map((v) => [v.type, v.source, v.target])).toContainEqual(["bind", "/media/your/plex/path", "/media"]);
    expect(plan.services.plex!.options.network).toBe("host");
    expect(plan.warnings).toEqual([]);
  });

  it("pihole: TZ from .env, an empty ServerIPv6, and the shell environment overriding .env", () => {
    const file = join(projects, "pihole-cloudflared-DoH/compose.yaml");
    const env = loadCompose(file, { env: {} }).services.pihole!.options.env!;
    expect(env.TZ).toBe("Etc/UTC");
    expect(env.ServerIPv6).toBe("");
    expect(env.PIHOLE_DNS_).toBe("172.20.0.2#5054;1.1.1.1");
    expect(loadCompose(file, { env: { TIMEZONE: "Europe/Paris" } }).services.pihole!.options.env!.TZ).toBe("Europe/Paris");
  });
});

describe("compose-go fixtures", () => {
  const dir = join(corpus, "compose-go");
  const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Record<string, { expect: string; errorContains?: string; upstreamExactError?: string }>;

  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: ${want.expect}`, () => {
      counts.fixtures++;
      const path = join(dir, file);
      if (want.expect === "error") {
        let error: unknown;
        try {
          loadCompose(path, { env: {} });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DependencyCycleError);
        expect((error as Error).message).toContain(want.errorContains);
        // Walking services in file order gives upstream's exact cycle text.
        expect((error as Error).message).toContain(want.upstreamExactError);
        expect((error as DependencyCycleError).cycle[0]).toBe("service1");
      } else {
        const raw = parse(readFileSync(path, "utf8"), { version: "1.2" }) as Record<string, unknown>;
        expect(validateWithSchemaFile(raw, spec2020)).toBeUndefined();
        expect(validateWithSchemaFile(raw, spec07)).toBeUndefined();
        // Interpolation results: every "${VARIABLE}" scalar becomes the value, and nothing else changes.
        const strings = (v: unknown): string[] => (typeof v === "string" ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === "object" ? Object.values(v).flatMap(strings) : []);
        const keys = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(keys) : v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : []);
        const before = strings(raw);
        const after = interpolateDocument(raw, (n) => (n === "VARIABLE" ? "value" : undefined));
        expect(keys(after)).toEqual(keys(raw));
        expect(strings(after)).toEqual(before.map((s) => s.replaceAll("${VARIABLE}", "value")));
        expect(strings(after).some((s) => s.includes("$"))).toBe(false);
        counts.interpolated += before.reduce((n, s) => n + s.split("${VARIABLE}").length - 1, 0);
        // Unset, every use is reported (compose warns and uses "").
        const unset: string[] = [];
        interpolateDocument(
          raw,
          () => undefined,
          (name) => unset.push(name),
        );
        expect(unset.length).toBe(counts.interpolated);
      }
      counts.fixturesPassed++;
    });
  }
});
