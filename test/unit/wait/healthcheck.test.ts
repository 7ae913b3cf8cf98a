import { describe, expect, it } from "vitest";
import { emptyImageConfig, type ImageConfig } from "../../../src/image/config.js";
import { nextHealthState, resolveHealthcheck, type HealthcheckResult, type HealthState } from "../../../src/wait/healthcheck.js";
import { normalizeOptions } from "../../../src/container/options.js";

const image = (extra: Partial<ImageConfig> = {}): ImageConfig => ({ ...emptyImageConfig(), ...extra });
const ms = 1e6;

describe("which healthcheck a container runs", () => {
  it("takes the image's HEALTHCHECK with Docker's defaults (30 s, 30 s, 0, 5 s, 3)", () => {
    expect(resolveHealthcheck(undefined, image({ Healthcheck: { Test: ["CMD", "pg_isready", "-q"] } }))).toEqual({
      test: ["CMD", "pg_isready", "-q"],
      argv: ["pg_isready", "-q"],
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      retries: 3,
    });
    expect(resolveHealthcheck(undefined, image())).toBeUndefined();
    expect(resolveHealthcheck(undefined, image({ Healthcheck: { Test: ["NONE"] } }))).toBeUndefined();
  });

  it("runs CMD-SHELL through the image's SHELL, else /bin/sh -c", () => {
    expect(resolveHealthcheck(undefined, image({ Healthcheck: { Test: ["CMD-SHELL", "curl -f localhost"] } }))?.argv).toEqual(["/bin/sh", "-c", "curl -f localhost"]);
    expect(resolveHealthcheck(undefined, image({ Shell: ["/bin/bash", "-ec"], Healthcheck: { Test: ["CMD-SHELL", "true"] } }))?.argv).toEqual(["/bin/bash", "-ec", "true"]);
  });

  it("merges the container's option over the image's field by field, as docker run --health-*", () => {
    const base = image({ Healthcheck: { Test: ["CMD", "check"], Interval: 2000 * ms, Retries: 7 } });
    const timingOnly = normalizeOptions({ healthcheck: { intervalMs: 250 } }).healthcheck;
    expect(resolveHealthcheck(timingOnly, base)).toMatchObject({ argv: ["check"], intervalMs: 250, retries: 7 });
    const newTest = normalizeOptions({ healthcheck: { test: "exit 0", timeoutMs: 1500 } }).healthcheck;
    expect(resolveHealthcheck(newTest, base)).toMatchObject({ argv: ["/bin/sh", "-c", "exit 0"], intervalMs: 2000, timeoutMs: 1500, retries: 7 });
    expect(resolveHealthcheck(normalizeOptions({ healthcheck: { test: "NONE" } }).healthcheck, base)).toBeUndefined();
    expect(resolveHealthcheck(timingOnly, image())).toBeUndefined(); // timings without any test
  });

  it("checks the option like the image builder does", () => {
    expect(() => normalizeOptions({ healthcheck: { test: ["CMD"] } })).toThrow(/healthcheck.test/);
    expect(() => normalizeOptions({ healthcheck: { intervalMs: -1 } })).toThrow(/healthcheck.intervalMs/);
    expect(() => normalizeOptions({ healthcheck: { test: "NONE", retries: 2 } })).toThrow(/NONE takes no options/);
  });
});

describe("health state transitions (Docker's rules)", () => {
  const startedAtMs = Date.parse("2025-01-01T00:00:00.000Z");
  const at = (offsetMs: number, exitCode: number): HealthcheckResult => ({
    start: new Date(startedAtMs + offsetMs).toISOString(),
    end: new Date(startedAtMs + offsetMs + 5).toISOString(),
    exitCode,
    output: `exit ${exitCode}`,
  });
  const starting: HealthState = { status: "starting", failingStreak: 0, log: [] };
  const run = (results: HealthcheckResult[], rules = { retries: 3, startPeriodMs: 0, startedAtMs }) => results.reduce((state, result) => nextHealthState(state, result, rules), starting);

  it("becomes healthy at the first success and resets the failing streak", () => {
    expect(run([at(100, 1), at(200, 0)])).toMatchObject({ status: "healthy", failingStreak: 0 });
    expect(run([at(100, 0), at(200, 1), at(300, 1)])).toMatchObject({ status: "healthy", failingStreak: 2 });
  });

  it("becomes unhealthy after `retries` failures in a row", () => {
    expect(run([at(100, 1), at(200, 1)])).toMatchObject({ status: "starting", failingStreak: 2 });
    expect(run([at(100, 1), at(200, 1), at(300, -1)])).toMatchObject({ status: "unhealthy", failingStreak: 3 });
    expect(run([at(100, 0), at(200, 1), at(300, 1), at(400, 1)])).toMatchObject({ status: "unhealthy" });
  });

  it("does not count failures in the start period while starting", () => {
    const rules = { retries: 1, startPeriodMs: 1000, startedAtMs };
    expect(run([at(100, 1), at(900, 1)], rules)).toMatchObject({ status: "starting", failingStreak: 0 });
    expect(run([at(100, 1), at(1000, 1)], rules)).toMatchObject({ status: "unhealthy", failingStreak: 1 });
    // Once healthy, a failure counts even inside the start period.
    expect(run([at(100, 0), at(200, 1)], rules)).toMatchObject({ status: "unhealthy" });
  });

  it("keeps the last five results", () => {
    const state = run(
      [1, 2, 3, 4, 5, 6, 7].map((i) => at(i * 100, i === 7 ? 0 : 1)),
      { retries: 100, startPeriodMs: 0, startedAtMs },
    );
    expect(state.log.map((r) => r.start)).toEqual([3, 4, 5, 6, 7].map((i) => at(i * 100, 0).start));
  });
});
