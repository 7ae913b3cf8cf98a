import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { leftovers } from "../leaks.js";
import { waitUntil } from "../cli/helpers.js";

const repo = join(import.meta.dirname, "../../..");
const tsx = join(repo, "node_modules/tsx/dist/esm/index.mjs");
const vitest = join(repo, "node_modules/vitest/vitest.mjs");
const project = "test/fixtures/exit-status";

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

interface Reported {
  id?: string;
  where?: string;
  ready?: boolean;
}

let runs = 0;
// Each test runs node or vitest in a child process, which takes long on a loaded machine.
const childTimeoutMs = 240_000;

/**
 * Runs a child process in a process group of its own with a fresh report file; `interrupt` is
 * sent once a fixture reports that the run is under way.
 */
function run(args: string[], env: Record<string, string> = {}, interrupt?: NodeJS.Signals): Promise<Ended & { report: Reported[] }> {
  const report = join(testRoot, `exit-status-${++runs}.jsonl`);
  // Only whole lines count: the poll below may read the file between a writer's open (which
  // creates it empty) and its write.
  const read = (): Reported[] =>
    existsSync(report)
      ? readFileSync(report, "utf8")
          .split("\n")
          .slice(0, -1)
          .map((l) => JSON.parse(l) as Reported)
      : [];
  return new Promise((resolve, reject) => {
    const { FORCE_COLOR: _color, ...inherited } = process.env;
    const child = spawn(process.execPath, args, { cwd: repo, env: { ...inherited, ...env, NO_COLOR: "1", BENTO_ES_REPORT: report }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    let poll: NodeJS.Timeout | undefined;
    if (interrupt) {
      poll = setInterval(() => {
        if (read().some((r) => r.ready)) {
          clearInterval(poll);
          // SIGINT as Ctrl-C sends it, to the whole process group; SIGTERM as kill(1) does.
          if (interrupt === "SIGINT") process.kill(-child.pid!, interrupt);
          else child.kill(interrupt);
        }
      }, 50);
    }
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, output, report: read() });
    });
  });
}

const node = (mode: string) => run(["--import", tsx, join(repo, project, "node-child.ts"), mode]);
const vitestRun = (files: string[], env: Record<string, string> = {}, interrupt?: NodeJS.Signals) => run([vitest, "run", "--root", project, ...files], env, interrupt);

/** The ids of the containers a run reported, checked to be at least `count`. */
function started(report: Reported[], where: string): string[] {
  const ids = report.filter((r) => r.where === where).map((r) => r.id!);
  expect(ids.length, `containers started in ${where}`).toBeGreaterThan(0);
  return ids;
}

describe(`exit status of programs that started containers`, () => {
  it("keeps process.exitCode of a plain node program", { timeout: childTimeoutMs }, async () => {
    const ended = await node("exit-code");
    expect(ended.code, ended.output).toBe(3);
    expect(leftovers(started(ended.report, "node"))).toEqual([]);
  });

  it("keeps the status 1 of an uncaught error, printed as node prints it", { timeout: childTimeoutMs }, async () => {
    const ended = await node("uncaught");
    expect(ended.code, ended.output).toBe(1);
    expect(ended.output).toContain("Error: an uncaught error from the program");
    expect(ended.output).toMatch(/at Timeout\._onTimeout/);
    expect(leftovers(started(ended.report, "node"))).toEqual([]);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`ends by ${signal} after removing its containers (status ${signal === "SIGINT" ? 130 : 143} in a shell)`, { timeout: childTimeoutMs }, async () => {
      const ended = await run(["--import", tsx, join(repo, project, "node-child.ts"), "signal"], {}, signal);
      expect([ended.code, ended.signal], ended.output).toEqual([null, signal]);
      expect(leftovers(started(ended.report, "node"))).toEqual([]);
    });
  }

  it("leaves a program's own signal handler in charge of its status", { timeout: childTimeoutMs }, async () => {
    const ended = await run(["--import", tsx, join(repo, project, "node-child.ts"), "handled-signal"], {}, "SIGTERM");
    expect([ended.code, ended.signal], ended.output).toEqual([7, null]);
    expect(leftovers(started(ended.report, "node"))).toEqual([]);
  });
});

describe(`exit status of vitest runs that started containers`, () => {
  it("fails the run when a test that started a container fails", { timeout: childTimeoutMs }, async () => {
    const ended = await vitestRun(["in-test"]);
    expect(ended.output).toMatch(/Tests {2}1 failed \(1\)/);
    expect(ended.code, ended.output).toBe(1);
    expect(leftovers(started(ended.report, "test"))).toEqual([]);
  });

  it("fails the run when a test fails with a useContainer fixture running", { timeout: childTimeoutMs }, async () => {
    const ended = await vitestRun(["in-fixture"]);
    expect(ended.output).toMatch(/Tests {2}1 failed \(1\)/);
    expect(ended.code, ended.output).toBe(1);
    expect(leftovers(started(ended.report, "fixture"))).toEqual([]);
  });

  it("fails the run when a test fails with a global fixture running", { timeout: childTimeoutMs }, async () => {
    const ended = await vitestRun(["global"], { BENTO_ES_GLOBAL: "1" });
    expect(ended.output).toMatch(/Tests {2}1 failed \(1\)/);
    expect(ended.code, ended.output).toBe(1);
    expect(leftovers(started(ended.report, "global-setup"))).toEqual([]);
  });
});

describe(`interrupting a vitest run with a global fixture`, () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`removes the fixture within a second of ${signal} and does not exit 0`, { timeout: childTimeoutMs }, async () => {
      const ended = await vitestRun(["global"], { BENTO_ES_GLOBAL: "1", BENTO_ES_HANG: "1" }, signal);
      const ids = started(ended.report, "global-setup");
      expect(ended.code === null ? ended.signal : ended.code, ended.output).not.toBe(0);
      expect(await waitUntil(() => leftovers(ids).length === 0, 1000), leftovers(ids).join("\n")).toBe(true);
    });
  }
});
