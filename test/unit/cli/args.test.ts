import { describe, expect, it } from "vitest";
import { helpOption, parseCommandArgs, parseKeyValues, parsePublish, parseTail, splitAtFirstPositional, UsageError } from "../../../src/cli/args.js";
import { runOptions, isPathArgument } from "../../../src/cli/run.js";

const usage = "Usage: bento test\n";
const runLike = { ...helpOption, rm: { type: "boolean" }, env: { type: "string", short: "e", multiple: true }, name: { type: "string" } } as const;

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).usage).toBe(usage);
    return (error as UsageError).message;
  }
  throw new Error("expected a UsageError");
}

describe("parseCommandArgs", () => {
  it("parses flags, values, repeated options and positionals", () => {
    const { values, positionals } = parseCommandArgs(
      ["-a", "--json", "x", "-e", "A=1", "--env=B=2"],
      { ...helpOption, all: { type: "boolean", short: "a" }, json: { type: "boolean" }, env: { type: "string", short: "e", multiple: true } },
      usage,
    );
    expect(values).toEqual({ all: true, json: true, env: ["A=1", "B=2"] });
    expect(positionals).toEqual(["x"]);
  });

  it("turns parseArgs errors into UsageErrors naming the option", () => {
    expect(usageError(() => parseCommandArgs(["--bogus"], helpOption, usage))).toBe("unknown option --bogus");
    expect(usageError(() => parseCommandArgs(["-z"], helpOption, usage))).toBe("unknown option -z");
    expect(usageError(() => parseCommandArgs(["--name"], runLike, usage))).toBe("option --name needs a value");
    expect(usageError(() => parseCommandArgs(["-e"], runLike, usage))).toBe("option --env needs a value");
    expect(usageError(() => parseCommandArgs(["--rm=yes"], runLike, usage))).toBe("option --rm takes no value");
  });

  it("stops at the first positional when asked: the container's command keeps its own flags", () => {
    const parsed = parseCommandArgs(["--rm", "-e", "A=1", "--name", "web", "./rootfs", "sh", "-c", "echo --rm -e"], runLike, usage, true);
    expect(parsed.values).toEqual({ rm: true, env: ["A=1"], name: "web" });
    expect(parsed.positionals).toEqual(["./rootfs", "sh", "-c", "echo --rm -e"]);
    // Unknown options before the image are still errors.
    expect(usageError(() => parseCommandArgs(["--bogus", "img"], runLike, usage, true))).toBe("unknown option --bogus");
  });
});

describe("splitAtFirstPositional", () => {
  it("skips the values of value-taking options, inline or separate", () => {
    expect(splitAtFirstPositional(["-e", "A=1", "img", "x"], runLike)).toEqual({ head: ["-e", "A=1"], rest: ["img", "x"] });
    expect(splitAtFirstPositional(["-eA=1", "img"], runLike)).toEqual({ head: ["-eA=1"], rest: ["img"] });
    expect(splitAtFirstPositional(["--name=web", "img"], runLike)).toEqual({ head: ["--name=web"], rest: ["img"] });
    expect(splitAtFirstPositional(["--rm", "img", "--rm"], runLike)).toEqual({ head: ["--rm"], rest: ["img", "--rm"] });
  });

  it("ends the options at --", () => {
    expect(splitAtFirstPositional(["--rm", "--", "-img", "x"], runLike)).toEqual({ head: ["--rm"], rest: ["-img", "x"] });
  });

  it("reads a group of short flags, the last of which may take the next argument", () => {
    const opts = { a: { type: "boolean", short: "a" }, q: { type: "boolean", short: "q" }, e: { type: "string", short: "e" } } as const;
    expect(splitAtFirstPositional(["-aqe", "V", "img"], opts)).toEqual({ head: ["-aqe", "V"], rest: ["img"] });
    expect(splitAtFirstPositional(["-aq", "img"], opts)).toEqual({ head: ["-aq"], rest: ["img"] });
  });
});

describe("docker-style values", () => {
  it("parses KEY=VALUE pairs; a bare KEY comes from the environment", () => {
    expect(parseKeyValues("-e", ["A=1", "B==2", "C=", "HOME", "UNSET"], usage, { HOME: "/root" })).toEqual({ A: "1", B: "=2", C: "", HOME: "/root" });
    expect(usageError(() => parseKeyValues("-e", ["=x"], usage))).toBe('-e "=x": expected KEY=VALUE');
  });

  it("parses -p: container port, host port, host address, ranges, protocol", () => {
    expect(parsePublish("8080", usage)).toEqual([{ container: 8080, host: 0, protocol: "tcp" }]);
    expect(parsePublish("53/udp", usage)).toEqual([{ container: 53, host: 0, protocol: "udp" }]);
    expect(parsePublish("18080:8080", usage)).toEqual([{ container: 8080, host: 18080, protocol: "tcp" }]);
    expect(parsePublish("127.0.0.1:18080:8080/tcp", usage)).toEqual([{ container: 8080, host: 18080, protocol: "tcp", hostIp: "127.0.0.1" }]);
    expect(parsePublish("[::1]::8080", usage)).toEqual([{ container: 8080, host: 0, protocol: "tcp", hostIp: "::1" }]);
    expect(parsePublish("0.0.0.0:80:80", usage)).toEqual([{ container: 80, host: 80, protocol: "tcp", hostIp: "0.0.0.0" }]);
    expect(parsePublish("8000-8001:80-81/udp", usage)).toEqual([
      { container: 80, host: 8000, protocol: "udp" },
      { container: 81, host: 8001, protocol: "udp" },
    ]);
    expect(usageError(() => parsePublish("http", usage))).toMatch(/is not a port; use \[HOST_IP:\]\[HOST_PORT:\]CONTAINER_PORT/);
    expect(usageError(() => parsePublish("70000", usage))).toMatch(/not a port number \(1-65535\)/);
    expect(usageError(() => parsePublish("999.1.1.1:80:80", usage))).toMatch(/"999.1.1.1" is not an IP address/);
    expect(usageError(() => parsePublish("8000-8002:80-81", usage))).toMatch(/same length/);
  });

  it("parses --tail", () => {
    expect(parseTail(undefined, usage)).toBeUndefined();
    expect(parseTail("all", usage)).toBeUndefined();
    expect(parseTail("0", usage)).toBe(0);
    expect(parseTail("25", usage)).toBe(25);
    expect(usageError(() => parseTail("-1", usage))).toBe('--tail "-1": expected a number of lines, or "all"');
  });
});

describe("bento run's arguments", () => {
  it("turns flags into container options; docker's default of publishing nothing", () => {
    expect(runOptions({ env: ["A=1"], publish: ["18080:8080"], volume: ["data:/data", "./conf:/etc/app:ro"], name: "web", user: "app", workdir: "/srv" }, ["sh", "-c", "true"])).toEqual({
      env: { A: "1" },
      ports: [{ container: 8080, host: 18080, protocol: "tcp" }],
      mounts: ["data:/data", "./conf:/etc/app:ro"],
      name: "web",
      user: "app",
      workdir: "/srv",
      command: ["sh", "-c", "true"],
    });
    expect(runOptions({}, [])).toEqual({ env: {}, ports: [], mounts: [] });
  });

  it("reads paths as root filesystem directories and everything else as image references", () => {
    for (const arg of ["/srv/rootfs", "./rootfs", "../rootfs", ".", ".."]) expect(isPathArgument(arg)).toBe(true);
    for (const arg of ["alpine", "alpine:3.20", "docker.io/library/alpine", "localhost:5000/app", "rootfs"]) expect(isPathArgument(arg)).toBe(false);
  });
});
