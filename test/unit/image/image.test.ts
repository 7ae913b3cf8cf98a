import { describe, expect, expectTypeOf, it } from "vitest";
import { InvalidOptionError } from "../../../src/errors.js";
import { Image } from "../../../src/image/image.js";
import type { ImagePlan } from "../../../src/image/plan.js";

const alpine = Image.from("docker.io/library/alpine:3.20");
const stepsAfterFrom = (image: Image) => image.toPlan().steps.slice(1);

describe("Image is immutable", () => {
  it("branches a base without changing it", () => {
    const a = alpine.env("A", "1");
    const b = alpine.run("echo b");
    expect(alpine.toPlan().steps).toHaveLength(1);
    expect(stepsAfterFrom(a)).toEqual([{ kind: "env", vars: [{ key: "A", value: "1" }] }]);
    expect(stepsAfterFrom(b)).toEqual([{ kind: "run", command: { form: "shell", text: "echo b" } }]);
  });

  it("is frozen, and toPlan() returns a copy", () => {
    expect(Object.isFrozen(alpine)).toBe(true);
    const plan = alpine.toPlan();
    plan.steps.push({ kind: "user", user: "x" });
    expect(alpine.toPlan().steps).toHaveLength(1);
  });

  it("new Image() is empty and needs from() before steps other than arg()", () => {
    expect(new Image().toPlan()).toEqual({ version: 1, steps: [] });
    expect(new Image().arg("BASE", "alpine").toPlan().steps).toEqual([{ kind: "arg", args: [{ name: "BASE", default: "alpine" }] }]);
    expect(() => new Image().run("x")).toThrow(InvalidOptionError);
    expect(() => new Image().run("x")).toThrow(/no base image yet/);
  });
});

describe("every method's plan step", () => {
  it("from: refs, scratch, stages, other images, rootfs", () => {
    expect(Image.from("scratch").toPlan().steps[0]).toEqual({ kind: "from", base: { type: "scratch" } });
    expect(Image.from("alpine", { as: "Base", platform: "linux/arm64" }).toPlan().steps[0]).toEqual({
      kind: "from",
      base: { type: "ref", ref: "alpine" },
      stage: "base",
      platform: "linux/arm64",
    });
    const multi = Image.from("golang", { as: "build" }).from("build");
    expect(multi.toPlan().steps[1]).toEqual({ kind: "from", base: { type: "stage", name: "build" } });
    const embedded = Image.from(alpine);
    expect(embedded.toPlan().steps[0]).toEqual({ kind: "from", base: { type: "image", plan: alpine.toPlan() } });
    expect(new Image().from("alpine").toPlan()).toEqual(Image.from("alpine").toPlan());
  });

  it("fromRootfs resolves the directory to an absolute path and does no I/O", () => {
    const plan = Image.fromRootfs("does/not/exist").toPlan();
    expect(plan.steps[0]).toEqual({ kind: "from", base: { type: "rootfs", path: `${process.cwd()}/does/not/exist` } });
  });

  it("arg, env, workdir, user, label, expose, volume", () => {
    const img = alpine.arg("VERSION").arg("MODE", "dev").env({ A: "1", B: "$A" }).env("C", "x y").workdir("/app").user("1000:1000").label({ "org.example.team": "qa" }).label("k", "v").expose(8080).expose("53/udp").volume("/data", "/logs");
    expect(stepsAfterFrom(img)).toEqual([
      { kind: "arg", args: [{ name: "VERSION" }] },
      { kind: "arg", args: [{ name: "MODE", default: "dev" }] },
      {
        kind: "env",
        vars: [
          { key: "A", value: "1" },
          { key: "B", value: "$A" },
        ],
      },
      { kind: "env", vars: [{ key: "C", value: "x y" }] },
      { kind: "workdir", path: "/app" },
      { kind: "user", user: "1000:1000" },
      { kind: "label", labels: [{ key: "org.example.team", value: "qa" }] },
      { kind: "label", labels: [{ key: "k", value: "v" }] },
      { kind: "expose", ports: ["8080"] },
      { kind: "expose", ports: ["53/udp"] },
      { kind: "volume", paths: ["/data", "/logs"] },
    ]);
  });

  it("copy and add with options", () => {
    const builder = Image.from("golang").run("go build -o /out/app");
    const img = alpine
      .copy("fixtures/", "/app/fixtures", { chown: "1000:1000", chmod: 0o755, link: true })
      .copy(["a", "b"], "/dst/", { from: "docker.io/library/busybox", exclude: ["*.md"], parents: true })
      .copy("/out/app", "/app", { from: builder })
      .add("vendor.tar.gz", "/opt/", { chmod: "644", unpack: false });
    expect(stepsAfterFrom(img)).toEqual([
      { kind: "copy", sources: ["fixtures/"], dest: "/app/fixtures", chown: "1000:1000", chmod: "755", link: true },
      { kind: "copy", sources: ["a", "b"], dest: "/dst/", from: { type: "ref", ref: "docker.io/library/busybox" }, parents: true, exclude: ["*.md"] },
      { kind: "copy", sources: ["/out/app"], dest: "/app", from: { type: "image", plan: builder.toPlan() } },
      { kind: "add", sources: ["vendor.tar.gz"], dest: "/opt/", chmod: "644", unpack: false },
    ]);
  });

  it("copy --from a stage of the same plan refers to the stage", () => {
    const img = Image.from("golang", { as: "build" }).from("scratch").copy("/out", "/out", { from: "build" });
    expect(img.toPlan().steps[2]).toEqual({ kind: "copy", sources: ["/out"], dest: "/out", from: { type: "stage", name: "build" } });
  });

  it("run: shell and exec forms, env, network, mounts", () => {
    const img = alpine
      .run("echo hello > /app/hello.txt")
      .run(["/bin/make", "install"], { env: { PREFIX: "/usr" }, network: "none" })
      .run("apk add curl", { mounts: [{ type: "cache", target: "/var/cache/apk", sharing: "locked" }] });
    expect(stepsAfterFrom(img)).toEqual([
      { kind: "run", command: { form: "shell", text: "echo hello > /app/hello.txt" } },
      { kind: "run", command: { form: "exec", argv: ["/bin/make", "install"] }, env: [{ key: "PREFIX", value: "/usr" }], network: "none" },
      { kind: "run", command: { form: "shell", text: "apk add curl" }, mounts: [{ type: "cache", target: "/var/cache/apk", sharing: "locked" }] },
    ]);
  });

  it("healthcheck, shell, stopSignal, onbuild, entrypoint, cmd", () => {
    const img = alpine
      .healthcheck(["CMD", "wget", "-q", "-O-", "localhost:8080"], { intervalMs: 500, retries: 20 })
      .healthcheck("curl -f localhost")
      .healthcheck("NONE")
      .shell(["/bin/bash", "-c"])
      .stopSignal("SIGINT")
      .onbuild("COPY . /src")
      .onbuild((i) => i.run("make").env("A", "1"))
      .entrypoint(["/bin/httpd", "-f"])
      .cmd(["-p", "8080"])
      .cmd("serve --port 80");
    expect(stepsAfterFrom(img)).toEqual([
      { kind: "healthcheck", test: ["CMD", "wget", "-q", "-O-", "localhost:8080"], intervalMs: 500, retries: 20 },
      { kind: "healthcheck", test: ["CMD-SHELL", "curl -f localhost"] },
      { kind: "healthcheck", test: ["NONE"] },
      { kind: "shell", argv: ["/bin/bash", "-c"] },
      { kind: "stopSignal", signal: "SIGINT" },
      { kind: "onbuild", instruction: "COPY . /src" },
      { kind: "onbuild", instruction: "RUN make" },
      { kind: "onbuild", instruction: "ENV A=1" },
      { kind: "entrypoint", command: { form: "exec", argv: ["/bin/httpd", "-f"] } },
      { kind: "cmd", command: { form: "exec", argv: ["-p", "8080"] } },
      { kind: "cmd", command: { form: "shell", text: "serve --port 80" } },
    ]);
  });

  it("with() applies a reusable piece", () => {
    const withCurl = (i: Image) => i.run("apk add curl");
    expect(alpine.with(withCurl).toPlan()).toEqual(alpine.run("apk add curl").toPlan());
  });
});

describe("argument validation names the option and the fix", () => {
  const cases: [string, () => unknown, RegExp][] = [
    ["env name", () => alpine.env("A B", "x"), /env\.A B: a name must be non-empty/],
    ["env template", () => alpine.env("A", "${A"), /env\.A: .*missing '}'/],
    ["line break", () => alpine.label("k", "a\nb"), /label\.k: contains a line break/],
    ["expose range", () => alpine.expose(70000), /expose: expected a port between 1 and 65535/],
    ["expose text", () => alpine.expose("http"), /expose: expected a port such as 8080/],
    ["chmod", () => alpine.copy("a", "/b", { chmod: "rwx" }), /copy\.chmod: expected an octal mode/],
    ["chown", () => alpine.copy("a", "/b", { chown: "a:b:c" }), /copy\.chown: expected user or user:group/],
    ["empty sources", () => alpine.copy([], "/b"), /copy: expected a path/],
    ["run network", () => alpine.run("x", { network: "bridge" as never }), /run\.network/],
    ["run mount", () => alpine.run("x", { mounts: [{ type: "cache" }] }), /run\.mounts\[0\]: --mount type=cache: a target is required/],
    ["healthcheck array", () => alpine.healthcheck(["wget", "x"]), /healthcheck\.test: an array is Docker's test form/],
    ["healthcheck none", () => alpine.healthcheck("NONE", { retries: 1 }), /HEALTHCHECK NONE takes no options/],
    ["healthcheck tiny", () => alpine.healthcheck("true", { intervalMs: 0.5 }), /cannot be less than 1 ms/],
    ["shell", () => alpine.shell([]), /shell: expected a non-empty array/],
    ["stop signal", () => alpine.stopSignal("stop please"), /stopSignal: expected a signal name/],
    ["onbuild from", () => alpine.onbuild("FROM alpine"), /onbuild: FROM isn.t allowed as an ONBUILD trigger/],
    ["onbuild unknown", () => alpine.onbuild("FOO bar"), /onbuild: unknown instruction: FOO/],
    ["cmd empty", () => alpine.cmd(""), /cmd: expected a non-empty command/],
    ["cmd lines", () => alpine.cmd("a\nb"), /cannot span lines/],
    ["stage name", () => Image.from("alpine", { as: "1st" }), /from\.as: invalid stage name/],
    ["duplicate stage", () => Image.from("alpine", { as: "a" }).from("b", { as: "a" }), /already exists/],
    ["with", () => alpine.with((() => undefined) as never), /with: the function must return an Image/],
    ["rootfs", () => Image.fromRootfs(""), /fromRootfs\.dir/],
  ];
  for (const [name, call, message] of cases) {
    it(name, () => {
      expect(call).toThrow(InvalidOptionError);
      expect(call).toThrow(message);
    });
  }

  it("a failed call changes nothing", () => {
    const before = alpine.toPlan();
    expect(() => alpine.env("A", "${")).toThrow();
    expect(alpine.toPlan()).toEqual(before);
  });
});

describe("fromPlan", () => {
  it("round-trips toPlan() through JSON", () => {
    const img = Image.from("golang", { as: "build" })
      .run("make", { mounts: [{ type: "secret", id: "npmrc", target: "/root/.npmrc" }] })
      .from("scratch")
      .copy("/out", "/out", { from: "build" })
      .healthcheck("true", { intervalMs: 1000 })
      .cmd(["/out/app"]);
    const json = JSON.parse(JSON.stringify(img.toPlan())) as unknown;
    expect(Image.fromPlan(json).toPlan()).toEqual(img.toPlan());
    expect(JSON.parse(JSON.stringify(img))).toEqual(img.toPlan());
  });

  it("rejects bad plans with the path of the bad value", () => {
    expect(() => Image.fromPlan({ version: 2, steps: [] })).toThrow(/invalid plan at version: expected 1/);
    expect(() => Image.fromPlan({ version: 1, steps: [{ kind: "from", base: { type: "scratch" } }, { kind: "explode" }] })).toThrow(/steps\[1\]\.kind: unknown step kind "explode"/);
    expect(() => Image.fromPlan({ version: 1, steps: [{ kind: "run", command: { form: "shell", text: "x" } }] })).toThrow(/before the first from step/);
    expect(() => Image.fromPlan({ version: 1, steps: [{ kind: "from", base: { type: "rootfs", path: "rel" } }] })).toThrow(/steps\[0\]\.base\.path: expected an absolute host path/);
    expect(() => Image.fromPlan({ version: 1, steps: [{ kind: "from", base: { type: "image", plan: { version: 1, steps: 3 } } }] })).toThrow(/steps\[0\]\.base\.plan\.steps: expected an array/);
    expect(() => Image.fromPlan(null)).toThrow(/invalid plan at plan: expected an object/);
  });
});

describe("types", () => {
  it("builder methods return Image", () => {
    expectTypeOf(alpine.env("A", "1")).toEqualTypeOf<Image>();
    expectTypeOf(alpine.run("x")).toEqualTypeOf<Image>();
    expectTypeOf(alpine.copy("a", "b")).toEqualTypeOf<Image>();
    expectTypeOf(alpine.cmd(["x"])).toEqualTypeOf<Image>();
    expectTypeOf(alpine.with((i) => i)).toEqualTypeOf<Image>();
    expectTypeOf(Image.from("x")).toEqualTypeOf<Image>();
    expectTypeOf(Image.fromRootfs("/x")).toEqualTypeOf<Image>();
    expectTypeOf(Image.fromPlan).returns.toEqualTypeOf<Image>();
    expectTypeOf(alpine.toPlan()).toEqualTypeOf<ImagePlan>();
  });
});
