import { describe, expect, it } from "vitest";
import { applyConfigStep, emptyImageConfig, parsePortSpec, startStage, type ImageConfig } from "../../../src/image/config.js";
import { containerArgv } from "../../../src/image/container-argv.js";
import { Image } from "../../../src/image/image.js";
import { imageConfigOf } from "../../../src/image/image-config-of.js";

const rootfs = Image.fromRootfs("/srv/rootfs");
const configOf = (image: Image, options: Parameters<typeof imageConfigOf>[1] = {}) => imageConfigOf(image.toPlan(), options);
const envOf = (image: Image) => configOf(image).Env.filter((e) => !e.startsWith("PATH="));

describe("imageConfigOf: base configs", () => {
  it("scratch and rootfs start from BuildKit's empty image (WORKDIR /, default PATH)", () => {
    expect(configOf(rootfs)).toEqual({
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      WorkingDir: "/",
      User: "",
      ExposedPorts: {},
      Volumes: {},
      Labels: {},
    });
    expect(configOf(Image.from("scratch"))).toEqual(configOf(rootfs));
  });

  it("a ref base takes options.baseConfig (or a function of the expanded ref), and says so when it is missing", () => {
    const base: ImageConfig = { ...emptyImageConfig(), Env: ["PATH=/bin", "LANG=C"], Cmd: ["sh"] };
    expect(configOf(Image.from("alpine").env("A", "$LANG"), { baseConfig: base }).Env).toEqual(["PATH=/bin", "LANG=C", "A=C"]);
    const seen: string[] = [];
    const plan = new Image().arg("TAG", "3.20").from("alpine:$TAG").toPlan();
    imageConfigOf(plan, { baseConfig: (ref) => (seen.push(ref), base) });
    imageConfigOf(plan, { baseConfig: (ref) => (seen.push(ref), base), buildArgs: { TAG: "edge" } });
    expect(seen).toEqual(["alpine:3.20", "alpine:edge"]);
    expect(() => configOf(Image.from("alpine"))).toThrow(/starts from image "alpine"; pass options.baseConfig/);
  });

  it("the base's PATH is kept; ONBUILD triggers are not inherited", () => {
    const base: ImageConfig = { ...emptyImageConfig(), Env: ["PATH=/opt/bin"], OnBuild: ["RUN make"] };
    const config = configOf(Image.from("x"), { baseConfig: base });
    expect(config.Env).toEqual(["PATH=/opt/bin"]);
    expect(config.OnBuild).toBeUndefined();
  });

  it("follows FROM <stage> and embedded images", () => {
    const build = Image.from("scratch", { as: "build" }).env("FROM_BUILD", "1").workdir("/src");
    expect(envOf(build.from("build").env("B", "2"))).toEqual(["FROM_BUILD=1", "B=2"]);
    expect(configOf(build.from("build")).WorkingDir).toBe("/src");
    expect(envOf(Image.from(build).env("C", "3"))).toEqual(["FROM_BUILD=1", "C=3"]);
  });

  it("uses the last stage", () => {
    const plan = Image.from("scratch", { as: "a" }).env("A", "1").from("scratch").env("B", "2");
    expect(envOf(plan)).toEqual(["B=2"]);
  });
});

describe("ENV and ARG expansion", () => {
  it("ENV sees earlier ENV; all pairs of one ENV see the values before it", () => {
    const img = rootfs.env("abc", "hello").env({ abc: "bye", def: "$abc" }).env("ghi", "$abc");
    expect(envOf(img)).toEqual(["abc=bye", "def=hello", "ghi=bye"]);
  });

  it("quotes and escapes are processed, as in a Dockerfile", () => {
    expect(envOf(rootfs.env({ A: '"a b"', B: "x\\ y", C: "'$A'", D: "\\$A" }))).toEqual(["A=a b", "B=x y", "C=$A", "D=$A"]);
  });

  it("${VAR:-default} and ${VAR:+alt}", () => {
    expect(envOf(rootfs.env("A", "${UNSET:-fallback}").env("B", "${A:+set}"))).toEqual(["A=fallback", "B=set"]);
  });

  it("ENV replaces a variable in place, keeping the order", () => {
    expect(envOf(rootfs.env("A", "1").env("B", "2").env("A", "3"))).toEqual(["A=3", "B=2"]);
  });

  it("ARG values expand later steps but are not saved in the config", () => {
    const img = rootfs.arg("VERSION", "1.0").env("APP", "app-$VERSION");
    expect(envOf(img)).toEqual(["APP=app-1.0"]);
    expect(envOf(rootfs.arg("VERSION", "1.0").env("APP", "app-$VERSION").env("V", "${VERSION}"))).toEqual(["APP=app-1.0", "V=1.0"]);
    expect(configOf(img, { buildArgs: { VERSION: "2.0" } }).Env).toContain("APP=app-2.0");
  });

  it("an ARG without a value expands to nothing; a build arg gives it one", () => {
    const img = rootfs.arg("TOKEN").env("T", "[${TOKEN:-none}]");
    expect(envOf(img)).toEqual(["T=[none]"]);
    expect(configOf(img, { buildArgs: { TOKEN: "x" } }).Env).toContain("T=[x]");
  });

  it("global ARGs are for FROM lines only, unless redeclared in the stage", () => {
    const withGlobal = new Image().arg("V", "global").from("scratch");
    expect(envOf(withGlobal.env("A", "[$V]"))).toEqual(["A=[]"]);
    expect(envOf(withGlobal.arg("V").env("A", "[$V]"))).toEqual(["A=[global]"]);
    expect(configOf(withGlobal.arg("V").env("A", "[$V]"), { buildArgs: { V: "cli" } }).Env).toContain("A=[cli]");
  });

  it("an ARG default sees earlier variables; ENV wins over an earlier ARG", () => {
    expect(envOf(rootfs.env("BASE", "/opt").arg("DIR", "$BASE/app").env("D", "$DIR"))).toEqual(["BASE=/opt", "D=/opt/app"]);
    expect(envOf(rootfs.arg("X", "arg").env("X", "env").env("Y", "$X"))).toEqual(["X=env", "Y=env"]);
  });

  it("the plan's buildArgs apply, and options.buildArgs override them", () => {
    const plan = { ...rootfs.arg("A", "default").env("E", "$A").toPlan(), buildArgs: { A: "plan" } };
    expect(imageConfigOf(plan).Env).toContain("E=plan");
    expect(imageConfigOf(plan, { buildArgs: { A: "option" } }).Env).toContain("E=option");
  });

  it("automatic platform ARGs are visible to FROM", () => {
    const seen: string[] = [];
    imageConfigOf(Image.from("img-$TARGETARCH").toPlan(), { platform: "linux/arm64", baseConfig: (ref) => (seen.push(ref), emptyImageConfig()) });
    expect(seen).toEqual(["img-arm64"]);
  });
});

describe("WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD", () => {
  it("relative WORKDIR builds on the previous one; paths are cleaned; $VAR expands", () => {
    expect(configOf(rootfs.workdir("/a").workdir("b").workdir("../c/./d/")).WorkingDir).toBe("/a/c/d");
    expect(configOf(rootfs.workdir("rel")).WorkingDir).toBe("/rel");
    expect(configOf(rootfs.env("ROOT", "/srv").workdir("$ROOT/app")).WorkingDir).toBe("/srv/app");
  });

  it("the rest of the config steps", () => {
    const config = configOf(
      rootfs
        .env("U", "app")
        .user("$U:staff")
        .label({ "a.b": "1", c: "$U" })
        .expose(80)
        .expose("53/udp")
        .expose("8000-8002")
        .volume("/data", "/$U")
        .stopSignal("SIGINT")
        .shell(["/bin/bash", "-c"])
        .healthcheck("curl -f localhost", { intervalMs: 500, timeoutMs: 2000, startPeriodMs: 0, retries: 20 })
        .onbuild("RUN make"),
    );
    expect(config).toMatchObject({
      User: "app:staff",
      Labels: { "a.b": "1", c: "app" },
      ExposedPorts: { "80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {} },
      Volumes: { "/data": {}, "/app": {} },
      StopSignal: "SIGINT",
      Shell: ["/bin/bash", "-c"],
      Healthcheck: { Test: ["CMD-SHELL", "curl -f localhost"], Interval: 500_000_000, Timeout: 2_000_000_000, Retries: 20 },
      OnBuild: ["RUN make"],
    });
    expect(configOf(rootfs.healthcheck("true").healthcheck("NONE")).Healthcheck).toEqual({ Test: ["NONE"] });
  });

  it("SHELL changes the shell of later shell-form commands only", () => {
    const config = configOf(rootfs.cmd("a").shell(["/bin/bash", "-c"]).entrypoint("b"));
    expect(config.Entrypoint).toEqual(["/bin/bash", "-c", "b"]);
    expect(config.Cmd).toEqual(["/bin/sh", "-c", "a"]);
  });

  it("parsePortSpec rejects what EXPOSE rejects", () => {
    expect(() => parsePortSpec("80/icmp")).toThrow(/invalid port "80\/icmp"/);
    expect(() => parsePortSpec("90-80")).toThrow(/invalid port/);
    expect(() => parsePortSpec("http")).toThrow(/invalid port/);
  });
});

describe("ENTRYPOINT resets CMD as Docker does", () => {
  const base: ImageConfig = { ...emptyImageConfig(), Entrypoint: ["/docker-entrypoint.sh"], Cmd: ["postgres"] };

  it("an ENTRYPOINT in this stage clears an inherited CMD", () => {
    const config = configOf(Image.from("postgres").entrypoint(["/bin/tini", "--"]), { baseConfig: base });
    expect(config.Entrypoint).toEqual(["/bin/tini", "--"]);
    expect(config.Cmd).toBeUndefined();
  });

  it("a CMD set earlier in this stage survives a later ENTRYPOINT", () => {
    const config = configOf(Image.from("postgres").cmd(["-c", "fsync=off"]).entrypoint(["/bin/tini", "--"]), { baseConfig: base });
    expect(config.Cmd).toEqual(["-c", "fsync=off"]);
  });

  it("without an ENTRYPOINT step the inherited CMD stays; CMD: the last one wins", () => {
    expect(configOf(Image.from("postgres").env("A", "1"), { baseConfig: base }).Cmd).toEqual(["postgres"]);
    expect(configOf(Image.from("postgres").cmd(["a"]).cmd(["b"]), { baseConfig: base }).Cmd).toEqual(["b"]);
  });

  it("a CMD set in an earlier stage counts as inherited", () => {
    const plan = Image.from("scratch", { as: "one" }).cmd(["x"]).from("one").entrypoint(["/e"]);
    expect(configOf(plan).Cmd).toBeUndefined();
  });

  it("ENTRYPOINT [] removes the entrypoint", () => {
    expect(configOf(Image.from("postgres").entrypoint([]), { baseConfig: base }).Entrypoint).toBeUndefined();
  });
});

// The Dockerfile reference's table "Understand how CMD and ENTRYPOINT interact".
describe("the ENTRYPOINT x CMD table", () => {
  const entrypoints = {
    none: (i: Image) => i,
    shell: (i: Image) => i.entrypoint("exec_entry p1_entry"),
    exec: (i: Image) => i.entrypoint(["exec_entry", "p1_entry"]),
  };
  const cmds = {
    none: (i: Image) => i,
    exec: (i: Image) => i.cmd(["exec_cmd", "p1_cmd"]),
    shell: (i: Image) => i.cmd("exec_cmd p1_cmd"),
  };
  const table: [keyof typeof cmds, keyof typeof entrypoints, string[] | "error"][] = [
    ["none", "none", "error"],
    ["none", "shell", ["/bin/sh", "-c", "exec_entry p1_entry"]],
    ["none", "exec", ["exec_entry", "p1_entry"]],
    ["exec", "none", ["exec_cmd", "p1_cmd"]],
    ["exec", "shell", ["/bin/sh", "-c", "exec_entry p1_entry", "exec_cmd", "p1_cmd"]],
    ["exec", "exec", ["exec_entry", "p1_entry", "exec_cmd", "p1_cmd"]],
    ["shell", "none", ["/bin/sh", "-c", "exec_cmd p1_cmd"]],
    ["shell", "shell", ["/bin/sh", "-c", "exec_entry p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd"]],
    ["shell", "exec", ["exec_entry", "p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd"]],
  ];
  for (const [cmd, entrypoint, expected] of table) {
    it(`CMD ${cmd} x ENTRYPOINT ${entrypoint}`, () => {
      // Both orders within one stage give the same config.
      for (const image of [cmds[cmd](entrypoints[entrypoint](rootfs)), entrypoints[entrypoint](cmds[cmd](rootfs))]) {
        const config = configOf(image);
        if (expected === "error") {
          expect(() => containerArgv(config)).toThrow(/no ENTRYPOINT or CMD/);
          continue;
        }
        const argv = containerArgv(config);
        expect(argv).toEqual(expected);
        // With a shell-form ENTRYPOINT, CMD's words are only the script's $0 and $1: `sh -c` ignores them.
        if (entrypoint === "shell") expect(argv.slice(0, 3)).toEqual(["/bin/sh", "-c", "exec_entry p1_entry"]);
      }
    });
  }
});

describe("containerArgv overrides (docker run)", () => {
  const config = configOf(rootfs.entrypoint(["/bin/httpd", "-f"]).cmd(["-p", "80"]));

  it("command replaces CMD", () => {
    expect(containerArgv(config, { command: ["-p", "8080"] })).toEqual(["/bin/httpd", "-f", "-p", "8080"]);
  });

  it("a non-empty entrypoint drops the image's CMD unless a command is given", () => {
    expect(containerArgv(config, { entrypoint: ["sh"] })).toEqual(["sh"]);
    expect(containerArgv(config, { entrypoint: ["sh"], command: ["-c", "id"] })).toEqual(["sh", "-c", "id"]);
  });

  it("an empty entrypoint removes the image's entrypoint and keeps its CMD", () => {
    expect(containerArgv(config, { entrypoint: [] })).toEqual(["-p", "80"]);
  });

  it("an empty command means no override", () => {
    expect(containerArgv(config, { command: [] })).toEqual(["/bin/httpd", "-f", "-p", "80"]);
  });
});

describe("applyConfigStep is pure", () => {
  it("does not change its input state", () => {
    const state = startStage(emptyImageConfig());
    const before = structuredClone(state);
    applyConfigStep(state, { kind: "env", vars: [{ key: "A", value: "1" }] });
    applyConfigStep(state, { kind: "expose", ports: ["80"] });
    applyConfigStep(state, { kind: "cmd", command: { form: "exec", argv: ["x"] } });
    expect(state).toEqual(before);
  });

  it("rejects a from step", () => {
    expect(() => applyConfigStep(startStage(emptyImageConfig()), { kind: "from", base: { type: "scratch" } })).toThrow(/startStage/);
  });
});
