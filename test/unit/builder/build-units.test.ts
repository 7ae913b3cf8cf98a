import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compressionOf, isTarHeader } from "../../../src/builder/archive.js";
import { describeChanges, hashParts, shortDigest, stateIdAfter, stepKey } from "../../../src/builder/cache.js";
import { BuildContext, type ContextRefusal, hasWildcards, segmentRegExp } from "../../../src/builder/context.js";
import { BaseImageNotFoundError, BuildContextError, BuildStepError } from "../../../src/builder/errors.js";
import { parseChmod } from "../../../src/builder/file-step.js";
import { runtimeConfigOf, storedConfigOf } from "../../../src/builder/oci-config.js";
import { treeMetadataHash } from "../../../src/builder/rootfs-layer.js";
import { runArgv } from "../../../src/builder/run-step.js";
import { emptyImageConfig } from "../../../src/image/config.js";
import { Image } from "../../../src/image/image.js";
import type { RunStep } from "../../../src/image/plan.js";
import { Header } from "tar";
import { scratchDir } from "../scratch.js";

function runStepOf(dockerfile: string): RunStep {
  const step = Image.fromDockerfile({ dockerfile: `FROM scratch\n${dockerfile}` }).toPlan().steps[1];
  if (step?.kind !== "run") throw new Error("not a RUN");
  return step;
}

describe("runArgv", () => {
  it("appends shell form to SHELL (default /bin/sh -c) and keeps exec form", () => {
    expect(runArgv(runStepOf("RUN make all\n"), undefined)).toEqual(["/bin/sh", "-c", "make all"]);
    expect(runArgv(runStepOf("RUN make all\n"), ["/bin/bash", "-eo", "pipefail", "-c"])).toEqual(["/bin/bash", "-eo", "pipefail", "-c", "make all"]);
    expect(runArgv(runStepOf('RUN ["/bin/make", "all"]\n'), ["/bin/bash", "-c"])).toEqual(["/bin/make", "all"]);
  });

  it("runs a lone heredoc's body through the shell, a #! body as a script, and appends bodies otherwise", () => {
    expect(runArgv(runStepOf("RUN <<EOF\necho a\necho b\nEOF\n"), undefined)).toEqual(["/bin/sh", "-c", "echo a\necho b\n"]);
    expect(runArgv(runStepOf("RUN <<-EOF\n\techo tabbed\n\tEOF\n"), undefined)).toEqual(["/bin/sh", "-c", "echo tabbed\n"]);
    const script = runArgv(runStepOf("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n"), ["/bin/bash", "-c"]);
    expect(script.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(script.slice(3)).toEqual(["sh", "EOF", "#!/usr/bin/env python3\nprint(1)\n"]);
    expect(runArgv(runStepOf("RUN cat <<A > /a && cat <<B > /b\none\nA\ntwo\nB\n"), undefined)).toEqual(["/bin/sh", "-c", "cat <<A > /a && cat <<B > /b\none\nA\ntwo\nB"]);
  });
});

describe("cache keys", () => {
  it("depend on the parent, the instruction and every input, not on the inputs' order", () => {
    const a = stepKey("p", "RUN x", { "var:A": "1", "file:b": "2" });
    expect(stepKey("p", "RUN x", { "file:b": "2", "var:A": "1" })).toBe(a);
    expect(stepKey("q", "RUN x", { "var:A": "1", "file:b": "2" })).not.toBe(a);
    expect(stepKey("p", "RUN y", { "var:A": "1", "file:b": "2" })).not.toBe(a);
    expect(stepKey("p", "RUN x", { "var:A": "9", "file:b": "2" })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(stateIdAfter(a, undefined)).not.toBe(stateIdAfter(a, "sha256:1"));
    expect(hashParts("ab", "c")).not.toBe(hashParts("a", "bc"));
    expect(shortDigest("x")).toHaveLength(20);
  });

  it("describe what changed between two builds in words", () => {
    expect(describeChanges({ "file:a.txt": "1", "file:b.txt": "1", "src:.": "1" }, { "file:a.txt": "2", "file:b.txt": "1", "file:c.txt": "1", "src:.": "2" })).toBe("files changed: a.txt, c.txt (added)");
    expect(describeChanges({ "var:VERSION": "1" }, { "var:VERSION": "2", "var:NEW": "x" })).toBe("build args or env changed: NEW (added), VERSION");
    expect(describeChanges({ "src:big": "1" }, { "src:big": "2" })).toBe("sources changed: big");
    expect(describeChanges({ "url:http://x/a": "1" }, { "url:http://x/a": "2" })).toBe("downloads changed: http://x/a");
    expect(describeChanges({ a: "1" }, { a: "1" })).toBe("the inputs changed");
    const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`file:f${i}`, "1"]));
    expect(describeChanges({}, many)).toBe("files changed: f0 (added), f1 (added), f2 (added), f3 (added), f4 (added) (+3 more)");
  });
});

describe("archives", () => {
  it("detect compression by content, and tar headers by checksum", () => {
    expect(compressionOf(Buffer.from([0x1f, 0x8b, 0x08]))).toBe("gzip");
    expect(compressionOf(Buffer.from("BZh91AY"))).toBe("bzip2");
    expect(compressionOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00]))).toBe("xz");
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(compressionOf(Buffer.from("plain text"))).toBe("none");
    const block = Buffer.alloc(512);
    new Header({ path: "a.txt", type: "File", size: 3, mode: 0o644, mtime: new Date(0) }).encode(block);
    expect(isTarHeader(block)).toBe(true);
    block[0] = 0x42;
    expect(isTarHeader(block)).toBe(false);
    expect(isTarHeader(Buffer.alloc(100))).toBe(false);
  });
});

describe("the build context", () => {
  function context(): string {
    const dir = scratchDir("bento-unit-context-");
    mkdirSync(join(dir, "src/sub"), { recursive: true });
    writeFileSync(join(dir, "src/a.ts"), "a");
    writeFileSync(join(dir, "src/b.js"), "b");
    writeFileSync(join(dir, "src/sub/c.ts"), "c");
    writeFileSync(join(dir, "[x].txt"), "x");
    writeFileSync(join(dir, "secret.env"), "s");
    writeFileSync(join(dir, ".dockerignore"), "*.env\nsrc/sub\n");
    symlinkSync("src/a.ts", join(dir, "link-in"));
    symlinkSync("../../etc/passwd", join(dir, "link-out"));
    symlinkSync("/etc/passwd", join(dir, "link-abs"));
    return dir;
  }

  it("matches wildcards with Go's filepath.Match rules", () => {
    expect(hasWildcards("src/*.ts")).toBe(true);
    expect(hasWildcards("src/\\*.ts")).toBe(false);
    expect(segmentRegExp("*.ts").test("a.ts")).toBe(true);
    expect(segmentRegExp("?.ts").test("ab.ts")).toBe(false);
    expect(segmentRegExp("[a-b].ts").test("b.ts")).toBe(true);
    expect(segmentRegExp("[^a].ts").test("a.ts")).toBe(false);
    expect(segmentRegExp("\\[x\\].txt").test("[x].txt")).toBe(true);
    const ctx = BuildContext.open(context());
    expect(ctx.resolveSource("src/*.ts").map((s) => s.matched)).toEqual(["src/a.ts"]);
    expect(ctx.resolveSource("*/*").map((s) => s.matched)).toEqual(["src/a.ts", "src/b.js"]);
    expect(ctx.resolveSource("\\[x\\].txt").map((s) => s.entry.rel)).toEqual(["[x].txt"]);
  });

  it("refuses escapes and ignored paths, and follows symlinks that stay inside", () => {
    const ctx = BuildContext.open(context());
    const reason = (source: string): string => {
      try {
        ctx.resolveSource(source);
        return "accepted";
      } catch (e) {
        return (e as ContextRefusal).reason;
      }
    };
    expect(reason("../x")).toMatch(/leaves the build context/);
    expect(reason("src/../../x")).toMatch(/leaves the build context/);
    expect(reason("/etc/passwd")).toMatch(/absolute path/);
    expect(reason("link-out")).toMatch(/climbs out/);
    expect(reason("link-abs")).toMatch(/absolute path "\/etc\/passwd"/);
    expect(reason("secret.env")).toMatch(/excluded by \.dockerignore/);
    expect(reason("src/sub/c.ts")).toMatch(/excluded by \.dockerignore/);
    expect(reason("missing")).toMatch(/not found/);
    expect(reason("*.none")).toMatch(/no file in the build context matches/);
    expect(ctx.resolveSource("link-in")[0]?.entry.rel).toBe("src/a.ts");
    expect(ctx.resolveSource("src/../src/a.ts")[0]?.entry.rel).toBe("src/a.ts");
    expect(ctx.walk("src").map((e) => e.rel)).toEqual(["src/a.ts", "src/b.js"]);
    expect(ctx.walk("").map((e) => e.rel)).toEqual([".dockerignore", "[x].txt", "link-abs", "link-in", "link-out", "src", "src/a.ts", "src/b.js"]);
  });

  it("re-includes files under an ignored directory with ! exceptions", () => {
    const dir = scratchDir("bento-unit-context-");
    mkdirSync(join(dir, "docs/keep"), { recursive: true });
    writeFileSync(join(dir, "docs/a.md"), "a");
    writeFileSync(join(dir, "docs/keep/b.md"), "b");
    writeFileSync(join(dir, ".dockerignore"), "docs\n!docs/keep\n");
    expect(
      BuildContext.open(dir)
        .walk("")
        .map((e) => e.rel),
    ).toEqual([".dockerignore", "docs", "docs/keep", "docs/keep/b.md"]);
  });
});

describe("root filesystem import key", () => {
  it("changes when a file's metadata changes, not when nothing does", () => {
    const dir = scratchDir("bento-unit-rootfs-");
    writeFileSync(join(dir, "f"), "one");
    const first = treeMetadataHash(dir);
    expect(treeMetadataHash(dir)).toBe(first);
    utimesSync(join(dir, "f"), new Date(0), new Date(0));
    const touched = treeMetadataHash(dir);
    expect(touched).not.toBe(first);
    writeFileSync(join(dir, "f"), "two");
    expect(treeMetadataHash(dir)).not.toBe(touched);
  });
});

describe("image config forms", () => {
  it("round-trips the runtime config through the stored form, leaving empty fields out", () => {
    const config = {
      ...emptyImageConfig(),
      Cmd: ["sh"],
      Entrypoint: ["/init"],
      User: "app",
      ExposedPorts: { "8080/tcp": {} },
      Labels: { b: "2", a: "1" },
      StopSignal: "SIGINT",
      Shell: ["/bin/bash", "-c"],
      Healthcheck: { Test: ["CMD", "true"], Interval: 5e8 },
    };
    const stored = storedConfigOf(config);
    expect(Object.keys(stored.Labels ?? {})).toEqual(["a", "b"]);
    expect(storedConfigOf(emptyImageConfig())).toEqual({ Env: [emptyImageConfig().Env[0]], WorkingDir: "/" });
    expect(runtimeConfigOf(stored)).toEqual({ ...config, Labels: { a: "1", b: "2" } });
    expect(runtimeConfigOf(undefined)).toMatchObject({ Env: [], WorkingDir: "", User: "" });
  });

  it("parses --chmod as octal", () => {
    expect(parseChmod("755")).toBe(0o755);
    expect(parseChmod("0644")).toBe(0o644);
    expect(() => parseChmod("u+x")).toThrow(/octal mode/);
  });
});

describe("build errors", () => {
  it("name the step, the Dockerfile line, the exit code and the output tail", () => {
    const e = new BuildStepError({ step: 4, total: 9, instruction: "RUN make\n  all", file: "Dockerfile", line: 12 }, { exitCode: 2, outputTail: ["cc: error", "make: *** [all] Error 1"] });
    expect(e.code).toBe("ERR_BUILD_STEP");
    expect(e.message).toBe("build step 4/9 (Dockerfile:12: RUN make): exit code 2\nlast output lines:\n  cc: error\n  make: *** [all] Error 1");
    expect(new BuildStepError({ step: 1, total: 1, instruction: "RUN x" }, { exitCode: 137, signal: "SIGKILL" }).message).toBe("build step 1/1 (RUN x): killed by SIGKILL (exit code 137)");
    const context = new BuildContextError({ step: 2, total: 3, instruction: "COPY ../x /x", line: 2 }, "../x", "it leaves the build context");
    expect([context.code, context.step, context.line, context.source]).toEqual(["ERR_BUILD_CONTEXT", 2, 2, "../x"]);
    expect(context.message).toBe('build step 2/3 (line 2: COPY ../x /x): source "../x": it leaves the build context');
    expect(new BaseImageNotFoundError("alpine:3.20", "/store").message).toMatch(/^base image "alpine:3\.20" is not in the store "\/store": import it/);
  });
});
