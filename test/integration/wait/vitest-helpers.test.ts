import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { config } from "../../../src/config.js";
import { leftovers } from "../leaks.js";
import type { ReportEvent } from "../../fixtures/vitest-project/report.js";

const repo = join(import.meta.dirname, "../../..");
const vitest = join(repo, "node_modules/vitest/vitest.mjs");

interface Run {
  code: number | null;
  output: string;
}

/** Runs the fixture project (test/fixtures/vitest-project) with vitest in a child process. */
function runProject(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { FORCE_COLOR: _color, ...inherited } = process.env;
    const child = spawn(process.execPath, [vitest, "run", "--root", "test/fixtures/vitest-project", ...args], {
      cwd: repo,
      env: { ...inherited, ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

function readReport(file: string): ReportEvent[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ReportEvent);
}

const ofKind = (events: ReportEvent[], kind: string) => events.filter((e) => e.event === kind);
const idsIn = (events: ReportEvent[]) => [...new Set(events.flatMap((e) => (e.id ? [e.id] : [])))];

describe(`bento/vitest in a vitest project run as a child process`, () => {
  for (const pool of ["forks", "threads"]) {
    it(`cleans up after each test, file and suite, and shares one global fixture between workers (${pool})`, async () => {
      const report = join(testRoot, `report-${pool}.jsonl`);
      const run = await runProject(["--pool", pool], { BENTO_VP_REPORT: report, BENTO_VP_RUN: pool });
      expect(run.output).toMatch(/Tests {2}12 passed \(12\)/);
      expect(run.code).toBe(0);
      const events = readReport(report);
      // per-test.check.ts asserted, inside the run, that each test's container was gone before the next test.
      expect(ofKind(events, "test-container")).toHaveLength(4);
      expect(ofKind(events, "file-container")).toHaveLength(1);
      expect(ofKind(events, "suite-container")).toHaveLength(1);
      // One fixture, started once in the main process, used by three files in three workers, removed once.
      const [started, ...more] = ofKind(events, "fixture-started");
      expect(more).toEqual([]);
      const used = ofKind(events, "fixture-used");
      expect(used.map((e) => e.id)).toEqual([started!.id, started!.id, started!.id]);
      expect(new Set(used.map((e) => `${e.pid}:${e.threadId}`)).size).toBe(3);
      expect(used.every((e) => (pool === "threads" ? e.pid === started!.pid : e.pid !== started!.pid))).toBe(true);
      expect(ofKind(events, "fixture-removed").map((e) => e.id)).toEqual([started!.id]);
      expect(leftovers(idsIn(events))).toEqual([]);
    });
  }

  it("shares a named fixture between two concurrent runs: started once, removed by the last user", async () => {
    const share = `web-${randomBytes(4).toString("hex")}`;
    const report = join(testRoot, "report-shared.jsonl");
    const env = { BENTO_VP_REPORT: report, BENTO_VP_SHARE: share, BENTO_VP_RUNS: "2", BENTO_VP_COORD: join(testRoot, `meet-${share}`) };
    const [a, b] = await Promise.all([runProject(["--pool", "forks", "shared-a"], { ...env, BENTO_VP_RUN: "a" }), runProject(["--pool", "threads", "shared-a"], { ...env, BENTO_VP_RUN: "b" })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const events = readReport(report);
    const [started, ...more] = ofKind(events, "fixture-started");
    expect(more).toEqual([]);
    expect(
      ofKind(events, "fixture-used")
        .map((e) => [e.run, e.id])
        .sort(),
    ).toEqual([
      ["a", started!.id],
      ["b", started!.id],
    ]);
    // The run that started it removed it, after the other run had finished with it.
    const order = events.map((e) => `${e.event}:${e.run}`);
    const owner = started!.run!;
    const other = owner === "a" ? "b" : "a";
    expect(order.indexOf(`fixture-removed:${owner}`)).toBeGreaterThan(order.indexOf(`run-finished:${other}`));
    expect(order.at(-1)).toBe(`run-finished:${owner}`);
    expect(existsSync(join(config().runtimeDir, "fixtures", share, "owner.json"))).toBe(false);
    expect(leftovers(idsIn(events))).toEqual([]);
  });
});
