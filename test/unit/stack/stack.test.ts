import { describe, expect, expectTypeOf, it } from "vitest";
import { InvalidOptionError } from "../../../src/errors.js";
import { Image } from "../../../src/image/image.js";
import { DependencyCycleError, UnsupportedComposeError } from "../../../src/stack/errors.js";
import type { RunningStack } from "../../../src/stack/running-stack.js";
import { Stack } from "../../../src/stack/stack.js";

const img = Image.fromRootfs("/nonexistent-rootfs").cmd(["true"]);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("Stack is an immutable builder", () => {
  it("returns a new, frozen stack from service() and leaves the base as it was", () => {
    const base = new Stack("shop").service("db", img);
    const a = base.service("web", { image: img, ports: [8080] }, { dependsOn: { db: "healthy" } });
    const b = base.service("worker", img);
    expect(base.services).toEqual(["db"]);
    expect(a.services).toEqual(["db", "web"]);
    expect(b.services).toEqual(["db", "worker"]);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.name).toBe("shop");
    expectTypeOf(a.service("x", img)).toEqualTypeOf<Stack>();
    expectTypeOf<RunningStack>().not.toHaveProperty("up");
    expectTypeOf<Stack>().not.toHaveProperty("down");
  });

  it("does not freeze or keep the caller's option objects", () => {
    const env = { MODE: "test" };
    const stack = new Stack("s").service("web", { image: img, env });
    env.MODE = "changed";
    expect(Object.isFrozen(env)).toBe(false);
    expect(stack.services).toEqual(["web"]);
  });

  it("names a stack randomly, or checks the given name", () => {
    expect(new Stack().name).toMatch(/^stack-[0-9a-f]{8}$/);
    expect(() => new Stack("Bad Name")).toThrow(/not a stack name/);
  });
});

describe("service() checks its input and names the service", () => {
  it.each([
    [() => new Stack("s").service("bad name", img), "service", /not a service name/],
    [() => new Stack("s").service("a", img).service("a", img), "services.a", /already defined/],
    [() => new Stack("s").service("a", {} as never), "services.a", /expected an Image/],
    [() => new Stack("s").service("a", { image: img, env: { X: 1 as never } }), "services.a.env.X", /must be a string/],
    [() => new Stack("s").service("a", { image: img, resources: { memory: "1k" } }), "services.a.resources.memory", /minimum of 6m/],
    [() => new Stack("s").service("a", img, { dependsOn: { b: "ready" as never } }), "services.a.dependsOn.b", /"started", "healthy" or "completed"/],
    [() => new Stack("s").service("a", img, { restart: "sometimes" as never }), "services.a.restart", /not a restart policy/],
    [() => new Stack("s").service("a", img, { restart: "always", maxRestarts: 2 }), "services.a.maxRestarts", /"on-failure" only/],
  ])("%#", (fn, option, message) => {
    const e = thrown(fn);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as InvalidOptionError).option).toBe(option);
    expect(e.message).toMatch(message);
  });

  it("accepts aliases without a network: the service joins the stack's", () => {
    expect(new Stack("s").service("db", { image: img, aliases: ["database"] }).services).toEqual(["db"]);
  });
});

describe("up() refuses a stack that cannot start, before creating anything", () => {
  it("names a dependency cycle", async () => {
    const stack = new Stack("loop")
      .service("a", img, { dependsOn: { c: "started" } })
      .service("b", img, { dependsOn: { a: "healthy" } })
      .service("c", img, { dependsOn: { b: "completed" } });
    const e = (await stack.up().catch((x: unknown) => x)) as DependencyCycleError;
    expect(e).toBeInstanceOf(DependencyCycleError);
    expect(e.cycle).toEqual(["a", "c", "b", "a"]);
    expect(e.message).toBe("stack loop: dependency cycle detected: a -> c -> b -> a; remove one of these depends_on entries");
    await expect(new Stack("self").service("a", img, { dependsOn: { a: "started" } }).up()).rejects.toThrow("dependency cycle detected: a -> a");
  });

  it("names a dependency on a missing service, unknown services to start, and bad options", async () => {
    await expect(new Stack("s").service("web", img, { dependsOn: { db: "started" } }).up()).rejects.toThrow(/services.web.dependsOn.db: stack s has no service "db" \(services: web\)/);
    await expect(new Stack("s").service("web", img).up({ services: ["api"] })).rejects.toThrow(/no service "api"/);
    await expect(new Stack("s").up()).rejects.toThrow(/has no services/);
    await expect(new Stack("s").service("web", img).up({ timeoutMs: -1 })).rejects.toThrow(InvalidOptionError);
  });

  it("refuses a dependency needed both healthy and completed", async () => {
    const stack = new Stack("s")
      .service("job", img)
      .service("a", img, { dependsOn: { job: "healthy" } })
      .service("b", img, { dependsOn: { job: "completed" } });
    await expect(stack.up()).rejects.toThrow(/services.job: dependents need it both healthy and completed \(a \(healthy\), b \(completed\)\)/);
  });

  it("lists every compose key it cannot honour, with its path", async () => {
    const stack = Stack.fromCompose({
      yaml: `
services:
  web:
    image: nginx
    cgroup_parent: custom
    networks: [front, back]
  db:
    image: postgres
    secrets: [pw]
    networks: [ext]
networks:
  front: { ipam: { config: [{ subnet: 10.1.0.0/24 }] } }
  back:
  ext: { external: true }
secrets:
  pw: { external: true }
`,
      env: {},
      projectName: "p",
    });
    const e = (await stack.up().catch((x: unknown) => x)) as UnsupportedComposeError;
    expect(e).toBeInstanceOf(UnsupportedComposeError);
    expect(e.code).toBe("ERR_STACK_UNSUPPORTED");
    expect(e.keys.map((k) => k.path)).toEqual(["networks.front.ipam", "secrets.pw.external", "services.web.cgroup_parent", "services.web.networks", "networks.ext.external"]);
    expect(e.message).toMatch(/these 5 keys are not supported by bento, so nothing was started/);
    // Only the services asked for (and what they need) count: an external secret only when one of them mounts it.
    const dbOnly = (await stack.up({ services: ["db"] }).catch((x: unknown) => x)) as UnsupportedComposeError;
    expect(dbOnly.keys.map((k) => k.path)).toEqual(["secrets.pw.external", "networks.ext.external"]);
    const webOnly = (await stack.up({ services: ["web"] }).catch((x: unknown) => x)) as UnsupportedComposeError;
    expect(webOnly.keys.map((k) => k.path)).toEqual(["networks.front.ipam", "services.web.cgroup_parent", "services.web.networks"]);
  });

  it("starts nothing when every service is in an inactive profile", async () => {
    const stack = Stack.fromCompose({ yaml: "services:\n  debug:\n    image: x\n    profiles: [debug]\n", env: {}, projectName: "p" });
    await expect(stack.up()).rejects.toThrow(/no service to start \(are all of them in inactive profiles/);
  });

  it("checks the images option of fromCompose", () => {
    expect(() => Stack.fromCompose({ yaml: "services:\n  a:\n    image: x\n", env: {}, images: { x: "not an image" as never } })).toThrow(/images.x: must be an Image/);
  });
});
