/**
 * Dockerfile front end cases the BuildKit corpus lacks: heredocs, multi-stage builds and targets,
 * --platform, RUN --mount, SHELL, CRLF and BOM, directives, errors with locations, round trips.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../../src/errors.js";
import { emptyImageConfig } from "../../../src/image/config.js";
import { parseDockerfile } from "../../../src/image/dockerfile.js";
import { dumpDockerfileAst } from "../../../src/image/dockerfile-ast.js";
import { parseDockerfileAst } from "../../../src/image/dockerfile-parser.js";
import { toDockerfile } from "../../../src/image/dockerfile-printer.js";
import { DockerfileSyntaxError } from "../../../src/image/errors.js";
import { Image } from "../../../src/image/image.js";
import { imageConfigOf } from "../../../src/image/image-config-of.js";
import type { ImagePlan, ImageStep } from "../../../src/image/plan.js";
import { scratchDir } from "../scratch.js";

const strip = (plan: ImagePlan): ImagePlan => ({ ...plan, steps: plan.steps.map(({ location: _location, ...step }) => step as ImageStep) });
const stepsOf = (text: string): ImageStep[] => strip(parseDockerfile(text)).steps;

function roundTrips(text: string): void {
  const plan = parseDockerfile(text);
  expect(strip(parseDockerfile(toDockerfile(plan)))).toEqual(strip(plan));
}

function syntaxError(call: () => unknown): DockerfileSyntaxError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(DockerfileSyntaxError);
    return error as DockerfileSyntaxError;
  }
  throw new Error("expected a DockerfileSyntaxError");
}

describe("heredocs", () => {
  const text = [
    "FROM alpine",
    "RUN <<EOF",
    "echo hello",
    "# not a comment: part of the script",
    "EOF",
    "RUN <<-EOT bash",
    "\tset -e",
    "\techo $HOME",
    "\tEOT",
    "RUN <<'NOEXPAND' cat > /x",
    "$HOME stays",
    "NOEXPAND",
    "RUN cat <<A <<B > /out",
    "a body",
    "A",
    "b body",
    "B",
    "COPY <<EOF /etc/app.conf",
    "key=value",
    "EOF",
    'COPY --chmod=755 <<"SCRIPT" /usr/local/bin/hello',
    "#!/bin/sh",
    "echo hi",
    "SCRIPT",
    "RUN 3<<FD cat /dev/fd/3",
    "x",
    "FD",
    'RUN ["echo", "<<NOTHEREDOC"]',
    "ONBUILD RUN <<EOF",
    "make",
    "EOF",
    "",
  ].join("\n");

  it("attaches bodies, delimiters, expansion, chomp and fd to the steps", () => {
    expect(stepsOf(text).slice(1)).toEqual([
      { kind: "run", command: { form: "shell", text: "<<EOF" }, heredocs: [{ name: "EOF", content: "echo hello\n# not a comment: part of the script\n", expand: true, chomp: false }] },
      { kind: "run", command: { form: "shell", text: "<<-EOT bash" }, heredocs: [{ name: "EOT", content: "\tset -e\n\techo $HOME\n", expand: true, chomp: true }] },
      { kind: "run", command: { form: "shell", text: "<<'NOEXPAND' cat > /x" }, heredocs: [{ name: "NOEXPAND", content: "$HOME stays\n", expand: false, chomp: false }] },
      {
        kind: "run",
        command: { form: "shell", text: "cat <<A <<B > /out" },
        heredocs: [
          { name: "A", content: "a body\n", expand: true, chomp: false },
          { name: "B", content: "b body\n", expand: true, chomp: false },
        ],
      },
      { kind: "copy", sources: ["<<EOF"], dest: "/etc/app.conf", heredocs: [{ name: "EOF", content: "key=value\n", expand: true, chomp: false }] },
      { kind: "copy", sources: ['<<"SCRIPT"'], dest: "/usr/local/bin/hello", chmod: "755", heredocs: [{ name: "SCRIPT", content: "#!/bin/sh\necho hi\n", expand: false, chomp: false }] },
      { kind: "run", command: { form: "shell", text: "3<<FD cat /dev/fd/3" }, heredocs: [{ name: "FD", content: "x\n", expand: true, chomp: false, fd: 3 }] },
      { kind: "run", command: { form: "exec", argv: ["echo", "<<NOTHEREDOC"] } },
      { kind: "onbuild", instruction: "RUN <<EOF\nmake\nEOF" },
    ]);
  });

  it("gives line numbers that include the bodies", () => {
    const ast = parseDockerfileAst(text);
    expect(ast.children.slice(0, 3).map((c) => [c.startLine, c.endLine])).toEqual([
      [1, 1],
      [2, 5],
      [6, 9],
    ]);
  });

  it("round-trips", () => {
    roundTrips(text);
  });

  it("an unterminated heredoc is an error at its instruction", () => {
    const error = syntaxError(() => parseDockerfile("FROM alpine\nRUN <<EOF\necho hi\n"));
    expect(error.line).toBe(2);
    expect(error.instruction).toBe("RUN");
    expect(error.message).toMatch(/unterminated heredoc <<EOF \(expected a line with only EOF/);
  });
});

describe("multi-stage builds", () => {
  const text = [
    "ARG GO_VERSION=1.22",
    "ARG BASE=alpine",
    "FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS Build",
    "ARG GO_VERSION",
    "ENV GO=$GO_VERSION",
    "RUN go build -o /out/app",
    "FROM build AS test",
    "ENV NOT_REDECLARED=[$BASE]",
    "RUN go test ./...",
    "FROM ${BASE} AS prod",
    "COPY --from=build /out/app /app",
    "COPY --from=0 /out/app /app0",
    "COPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf",
    'CMD ["/app"]',
    "",
  ].join("\n");

  it("keeps global ARGs first, stages with lower-case names, stage and image references", () => {
    const steps = stepsOf(text);
    expect(steps.slice(0, 3)).toEqual([
      { kind: "arg", args: [{ name: "GO_VERSION", default: "1.22" }] },
      { kind: "arg", args: [{ name: "BASE", default: "alpine" }] },
      { kind: "from", base: { type: "ref", ref: "golang:${GO_VERSION}" }, stage: "build", platform: "$BUILDPLATFORM" },
    ]);
    expect(steps[6]).toEqual({ kind: "from", base: { type: "stage", name: "build" }, stage: "test" });
    expect(steps[9]).toEqual({ kind: "from", base: { type: "ref", ref: "${BASE}" }, stage: "prod" });
    expect(steps.slice(10, 13).map((s) => (s as { from?: unknown }).from)).toEqual([
      { type: "stage", name: "build" },
      { type: "stage", name: "0" },
      { type: "ref", ref: "nginx:latest" },
    ]);
  });

  it("records where each step came from", () => {
    expect(parseDockerfile(text).steps.map((s) => s.location?.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it("target picks the stage: the plan ends with it", () => {
    const plan = parseDockerfile(text, { target: "test" });
    expect(plan.steps.at(-1)?.kind).toBe("run");
    expect(plan.steps.filter((s) => s.kind === "from").map((s) => (s as { stage?: string }).stage)).toEqual(["build", "test"]);
    expect(() => parseDockerfile(text, { target: "nope" })).toThrow(InvalidOptionError);
    expect(() => parseDockerfile(text, { target: "nope" })).toThrow(/target stage "nope" could not be found in Dockerfile; its stages are build, test, prod/);
  });

  it("global ARGs reach FROM lines, and stages only when redeclared", () => {
    const refs: string[] = [];
    const baseConfig = (ref: string) => (refs.push(ref), emptyImageConfig());
    const test = imageConfigOf(parseDockerfile(text, { target: "test" }), { baseConfig });
    expect(refs).toEqual(["golang:1.22"]);
    expect(test.Env).toContain("GO=1.22");
    expect(test.Env).toContain("NOT_REDECLARED=[]");
    refs.length = 0;
    imageConfigOf(parseDockerfile(text), { baseConfig, buildArgs: { BASE: "debian", GO_VERSION: "1.23" } });
    expect(refs).toEqual(["debian"]);
    expect(imageConfigOf(parseDockerfile(text, { target: "build" }), { baseConfig, buildArgs: { GO_VERSION: "1.23" } }).Env).toContain("GO=1.23");
  });

  it("round-trips", () => {
    roundTrips(text);
  });

  it("rejects bad stage names, duplicates and malformed FROM lines", () => {
    expect(syntaxError(() => parseDockerfile("FROM a AS 1x\n")).message).toMatch(/Dockerfile:1:1: FROM: invalid name for build stage: "1x"/);
    expect(syntaxError(() => parseDockerfile("FROM a AS x\nFROM b AS X\n")).message).toMatch(/Dockerfile:2:1: FROM: duplicate stage name "x"/);
    expect(syntaxError(() => parseDockerfile("FROM a b\n")).reason).toMatch(/FROM requires either one or three arguments/);
    expect(syntaxError(() => parseDockerfile("FROM a IS b\n")).reason).toMatch(/expected AS as the second argument/);
  });
});

describe("RUN flags", () => {
  it("keeps --mount, --network and --security in the plan", () => {
    const [, run] = stepsOf(
      "FROM golang\nRUN --mount=type=cache,target=/root/.cache/go-build,sharing=locked \\\n    --mount=type=secret,id=aws,target=/root/.aws/credentials,required=true \\\n    --mount=type=bind,from=build,source=/out,target=/in \\\n    --mount=type=tmpfs,target=/tmp,size=64m \\\n    --network=none --security=insecure go build\n",
    );
    expect(run).toEqual({
      kind: "run",
      command: { form: "shell", text: "go build" },
      mounts: [
        { type: "cache", target: "/root/.cache/go-build", sharing: "locked" },
        { type: "secret", id: "aws", target: "/root/.aws/credentials", required: true },
        { type: "bind", from: "build", source: "/out", target: "/in" },
        { type: "tmpfs", target: "/tmp", sizeBytes: 64 * 1024 * 1024 },
      ],
      network: "none",
      security: "insecure",
    });
  });

  it("round-trips, CSV quoting included", () => {
    const image = Image.from("a").run("ls", {
      mounts: [
        { type: "bind", source: "/a,b", target: "/x y" },
        { type: "cache", target: "/c" },
      ],
    });
    expect(image.toDockerfile()).toBe('FROM a\nRUN --mount="type=bind,target=/x y,\\"source=/a,b\\"" --mount=type=cache,target=/c ls\n');
    expect(strip(parseDockerfile(image.toDockerfile())).steps).toEqual(image.toPlan().steps);
  });

  it("rejects bad mounts and modes with the location", () => {
    const bad = syntaxError(() => parseDockerfile("FROM a\nRUN --mount=type=volume,target=/x ls\n"));
    expect(bad.message).toMatch(/Dockerfile:2:1: RUN: --mount type: unknown mount type "volume"/);
    expect(syntaxError(() => parseDockerfile("FROM a\nRUN --network=bridge ls\n")).reason).toMatch(/unsupported network mode "bridge"/);
    expect(syntaxError(() => parseDockerfile("FROM a\nRUN --mount=type=cache ls\n")).reason).toMatch(/a target is required/);
  });
});

describe("SHELL, HEALTHCHECK, STOPSIGNAL, MAINTAINER, ONBUILD", () => {
  const text = [
    "FROM alpine",
    "MAINTAINER Jane <jane@example.com>",
    'SHELL ["/bin/bash", "-eo", "pipefail", "-c"]',
    "CMD echo $HOME | wc -c",
    "HEALTHCHECK --interval=5s --timeout=1m30s --start-period=100ms --start-interval=1s --retries=3 CMD curl -f localhost",
    "STOPSIGNAL SIGQUIT",
    "ONBUILD COPY . /app",
    "",
  ].join("\n");

  it("gives the plan and the config", () => {
    expect(stepsOf(text).slice(1)).toEqual([
      { kind: "maintainer", name: "Jane <jane@example.com>" },
      { kind: "shell", argv: ["/bin/bash", "-eo", "pipefail", "-c"] },
      { kind: "cmd", command: { form: "shell", text: "echo $HOME | wc -c" } },
      { kind: "healthcheck", test: ["CMD-SHELL", "curl -f localhost"], intervalMs: 5000, timeoutMs: 90000, startPeriodMs: 100, startIntervalMs: 1000, retries: 3 },
      { kind: "stopSignal", signal: "SIGQUIT" },
      { kind: "onbuild", instruction: "COPY . /app" },
    ]);
    const config = imageConfigOf(parseDockerfile(text), { baseConfig: emptyImageConfig() });
    expect(config.Cmd).toEqual(["/bin/bash", "-eo", "pipefail", "-c", "echo $HOME | wc -c"]);
    expect(config.Healthcheck).toEqual({ Test: ["CMD-SHELL", "curl -f localhost"], Interval: 5e9, Timeout: 9e10, StartPeriod: 1e8, StartInterval: 1e9, Retries: 3 });
    expect(config.StopSignal).toBe("SIGQUIT");
    expect(config.OnBuild).toEqual(["COPY . /app"]);
    roundTrips(text);
  });

  it("applies a base image's ONBUILD triggers in the new stage", () => {
    const base = { ...emptyImageConfig(), OnBuild: ["ENV FROM_TRIGGER=1", "WORKDIR /trigger"] };
    const config = imageConfigOf(parseDockerfile("FROM base\nENV AFTER=$FROM_TRIGGER\n"), { baseConfig: base });
    expect(config.Env).toContain("AFTER=1");
    expect(config.WorkingDir).toBe("/trigger");
    expect(config.OnBuild).toBeUndefined();
  });

  it("rejects what BuildKit rejects", () => {
    const cases: [string, RegExp][] = [
      ["SHELL /bin/bash -c", /SHELL requires the arguments to be in JSON form/],
      ["HEALTHCHECK CONNECT TCP 7000", /Unknown type "CONNECT" in HEALTHCHECK \(try CMD\)/],
      ["HEALTHCHECK CMD", /Missing command after HEALTHCHECK CMD/],
      ["HEALTHCHECK --interval=5 CMD true", /--interval: invalid duration "5"/],
      ["HEALTHCHECK --interval=1us CMD true", /cannot be less than 1ms/],
      ["HEALTHCHECK --retries=-1 CMD true", /--retries cannot be negative/],
      ["HEALTHCHECK NONE extra", /HEALTHCHECK NONE takes no arguments/],
      ["ONBUILD FROM alpine", /FROM isn't allowed as an ONBUILD trigger/],
      ["ONBUILD ONBUILD RUN x", /Chaining ONBUILD/],
      ["ONBUILD COPY --bogus a b", /unknown flag: --bogus/],
      ["STOPSIGNAL", /STOPSIGNAL requires exactly one argument/],
      ["WORKDIR", /WORKDIR requires exactly one argument/],
      ["ENV", /ENV requires at least one argument/],
      ["ENV a=1 b", /can't find = in "b"/],
      ["LABEL =x", /LABEL names can not be blank/],
      ["COPY onlyone", /COPY requires at least two arguments/],
      ["COPY --link=maybe a b", /expecting boolean value for flag --link/],
      ["COPY --chown a b", /missing a value on flag: --chown/],
      ["COPY --from=a --from=b x y", /duplicate flag specified: --from/],
      ["EXPOSE", /EXPOSE requires at least one argument/],
      ['VOLUME [""]', /VOLUME specified can not be an empty string/],
      ['CMD ["a", 1]', /arrays must be comprised of strings only/],
      ["RUNN echo", /unknown instruction: RUNN \(did you mean RUN\?\)/],
    ];
    for (const [line, message] of cases) {
      const error = syntaxError(() => parseDockerfile(`FROM alpine\n${line}\n`, { file: "app/Dockerfile" }));
      expect(error.message, line).toMatch(message);
      expect(error.file).toBe("app/Dockerfile");
      expect(error.line, line).toBe(2);
      expect(error.instruction, line).toBe(line.split(" ")[0]);
    }
  });
});

describe("line ends, BOM, directives", () => {
  it("CRLF and a UTF-8 BOM give the same plan as LF", () => {
    const lf = "FROM alpine\nRUN echo a \\\n  b\nENV A=1 \\\n  B=2\n";
    const crlf = "\uFEFF" + lf.replace(/\n/g, "\r\n");
    expect(stepsOf(crlf)).toEqual(stepsOf(lf));
  });

  it("heredoc bodies keep their CRLF", () => {
    const [, copy] = stepsOf("FROM a\r\nCOPY <<EOF /f\r\nline\r\nEOF\r\n");
    expect((copy as { heredocs: { content: string }[] }).heredocs[0]?.content).toBe("line\r\n");
  });

  it("# escape=` makes the backtick the continuation and escape character", () => {
    const plan = parseDockerfile("# escape=`\nFROM windows\nRUN dir `\n  C:\\\nENV P=C:\\path` x\n");
    expect(plan.escape).toBe("`");
    expect(strip(plan).steps.slice(1)).toEqual([
      { kind: "run", command: { form: "shell", text: "dir   C:\\" } },
      { kind: "env", vars: [{ key: "P", value: "C:\\path` x" }] },
    ]);
    expect(imageConfigOf(plan, { baseConfig: emptyImageConfig() }).Env).toContain("P=C:\\path x");
    roundTrips("# escape=`\nFROM windows\nRUN dir `\n  C:\\\nENV P=C:\\path` x\n");
  });

  it("# syntax= is kept; directives after the first other line are comments", () => {
    const plan = parseDockerfile("# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n# escape=`\nRUN echo \\\n  hi\n");
    expect(plan.syntax).toBe("docker/dockerfile:1");
    expect(plan.escape).toBeUndefined();
    expect(strip(plan).steps[1]).toEqual({ kind: "run", command: { form: "shell", text: "echo   hi" } });
    expect(toDockerfile(plan).startsWith("# syntax=docker/dockerfile:1\n")).toBe(true);
  });

  it("a repeated or invalid directive is an error at its line", () => {
    expect(syntaxError(() => parseDockerfile("# escape=\\\n# escape=`\nFROM a\n")).message).toMatch(/Dockerfile:2:1: only one escape parser directive can be used/);
    expect(syntaxError(() => parseDockerfile("# escape=x\nFROM a\n")).reason).toMatch(/invalid escape token 'x'/);
  });

  it("comments and blank lines inside a continuation are dropped, with a warning for the blank ones", () => {
    const ast = parseDockerfileAst("FROM a\nRUN a \\\n# comment\n\n  b\n");
    expect(dumpDockerfileAst(ast)).toBe('(from "a")\n(run "a   b")');
    expect(ast.warnings).toHaveLength(1);
  });
});

describe("errors", () => {
  it("a step before FROM names the instruction and what was expected", () => {
    const error = syntaxError(() => parseDockerfile("\n\nRUN echo\nFROM a\n", { file: "ci/Dockerfile" }));
    expect(error).toMatchObject({ code: "ERR_DOCKERFILE_SYNTAX", file: "ci/Dockerfile", line: 3, column: 1, instruction: "RUN", expected: "FROM <image> first" });
    expect(error.message).toBe("ci/Dockerfile:3:1: RUN before the first FROM: only ARG may come before FROM (no build stage in current context) (expected FROM <image> first)");
  });

  it("columns point at the instruction, or at the bad word in its first line", () => {
    expect(syntaxError(() => parseDockerfile("FROM a\n   BOGUS x\n")).column).toBe(4);
    expect(syntaxError(() => parseDockerfile('FROM a\nCMD ["ok", ["nested"]]\n')).column).toBe(5);
    expect(syntaxError(() => parseDockerfile("FROM a\nENV good=1 bad\n")).column).toBe(12);
  });

  it("a 10 MB single-token line parses in one pass, and its error quotes a few hundred characters, not 20 MB", () => {
    const big = "a".repeat(10_000_000);
    for (const [text, reason] of [
      [`FROM busybox\n${big}\n`, /^Dockerfile:2:1: A{20}…\(9999960 characters\)…A{20}: unknown instruction: a+…\(\d+ characters\)…a+ \(expected a Dockerfile instruction/],
      [`FROM busybox\nRUN --${big} true\n`, /^Dockerfile:2:1: RUN: unknown flag: --a+…\(\d+ characters\)…a+ \(expected one of --mount/],
      [`FROM busybox\nENV ${big}\n`, /ENV must have two arguments/],
      [`FROM busybox\nLABEL ${big}\n`, /LABEL must have two arguments/],
      [`FROM busybox\nHEALTHCHECK ${big}\n`, /HEALTHCHECK: Unknown type "A+…\(\d+ characters\)…A+" in HEALTHCHECK/],
    ] as const) {
      const error = syntaxError(() => parseDockerfile(text));
      expect(error.message).toMatch(reason);
      expect(error.message.length).toBeLessThan(1000);
    }
    // Valid long words are kept whole.
    const plan = parseDockerfile(`FROM busybox\nENV A=${big}\nLABEL l=${big}\nARG ${big}=1\nRUN ${big}\n`);
    expect(JSON.stringify(plan).length).toBeGreaterThan(40_000_000);
  });
});

describe("Image.fromDockerfile", () => {
  const dir = scratchDir("bento-dockerfile-");
  const file = path.join(dir, "Dockerfile");
  writeFileSync(file, 'FROM alpine AS base\nARG MODE=dev\nENV MODE=$MODE\nFROM base AS prod\nCMD ["serve"]\n');

  it("reads a path; the context defaults to the Dockerfile's directory", () => {
    const plan = Image.fromDockerfile(file).toPlan();
    expect(plan.context).toBe(dir);
    expect(plan.dockerfile).toBe(file);
    expect(plan.steps).toHaveLength(5);
  });

  it("takes context, buildArgs and target", () => {
    const image = Image.fromDockerfile(file, { context: "/srv/ctx", buildArgs: { MODE: "prod" }, target: "base" });
    const plan = image.toPlan();
    expect(plan).toMatchObject({ context: "/srv/ctx", buildArgs: { MODE: "prod" } });
    expect(plan.steps).toHaveLength(3);
    expect(imageConfigOf(plan, { baseConfig: emptyImageConfig() }).Env).toContain("MODE=prod");
  });

  it("takes inline text, and the result is an Image to build on", () => {
    const image = Image.fromDockerfile({ dockerfile: "FROM alpine\nRUN echo hi\n", buildArgs: {} }).env("A", "1");
    expect(stepsOf(image.toDockerfile())).toEqual(strip(image.toPlan()).steps);
  });

  it("errors name the file; an unreadable path says so", () => {
    const bad = path.join(dir, "Bad.Dockerfile");
    writeFileSync(bad, "FROM alpine\nCOPY x\n");
    expect(syntaxError(() => Image.fromDockerfile(bad)).message).toMatch(new RegExp(`^${bad.replace(/[.]/g, "\\.")}:2:1: COPY requires at least two arguments`));
    expect(() => Image.fromDockerfile(path.join(dir, "missing"))).toThrow(/fromDockerfile\.path: cannot read .*ENOENT/);
    expect(() => Image.fromDockerfile({ dockerfile: "FROM a\n", target: "x" })).toThrow(/target stage "x" could not be found in <inline>/);
  });
});
