import { describe, expect, it } from "vitest";
import { StartupError } from "../../../src/errors.js";
import { WaitTimeoutError } from "../../../src/wait/wait-timeout-error.js";
import { normalizeOptions } from "../../../src/container/options.js";
import { Wait } from "../../../src/wait/wait.js";

describe("StartupError", () => {
  it("carries the phase, exit status, OOM, log tail, healthcheck history and listening ports, and says them all", () => {
    const cause = new WaitTimeoutError(2000, "2000 ms", "port 8080/tcp", ["not listening yet: 8080/tcp"]);
    const error = new StartupError(
      "web",
      {
        phase: "wait",
        timedOut: true,
        waitingFor: "port 8080/tcp",
        listeningPorts: [9090],
        logTail: ["starting", "bound 9090"],
        health: { status: "starting", failingStreak: 1, log: [{ start: "2025-01-01T00:00:00.000Z", end: "2025-01-01T00:00:00.010Z", exitCode: 1, output: "refused\nretry" }] },
      },
      { cause },
    );
    expect(error).toMatchObject({ code: "ERR_STARTUP", phase: "wait", timedOut: true, waitingFor: "port 8080/tcp", listeningPorts: [9090], oomKilled: false, exitCode: undefined });
    expect(error.health?.log).toHaveLength(1);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      [
        "start web: wait failed: timed out after 2000 ms waiting for port 8080/tcp (not listening yet: 8080/tcp); raise startupTimeoutMs, or set BENTO_TIMEOUT_SCALE on slow machines",
        "listening inside the container: 9090/tcp",
        "healthcheck: starting, 1 failures in a row; last results:",
        "  2025-01-01T00:00:00.000Z exit 1: refused | retry",
        "last log lines:",
        "  starting",
        "  bound 9090",
      ].join("\n"),
    );
  });

  it("names a signal and OOM", () => {
    const error = new StartupError("db", { phase: "wait", exitCode: 137, signal: "SIGKILL", oomKilled: true, listeningPorts: [] });
    expect(error.message).toBe("start db: wait failed, killed by SIGKILL (out of memory)\nlistening inside the container: no TCP port");
  });
});

describe("startup options", () => {
  it("checks startupTimeoutMs, wait and onLog", () => {
    expect(normalizeOptions({}).startupTimeoutMs).toBe(60_000);
    expect(() => normalizeOptions({ startupTimeoutMs: 0 })).toThrow(/startupTimeoutMs: 0 must be a positive number/);
    expect(() => normalizeOptions({ startupTimeoutMs: Number.POSITIVE_INFINITY })).toThrow(/startupTimeoutMs/);
    expect(() => normalizeOptions({ wait: {} as never })).toThrow(/wait: expected a wait strategy/);
    expect(normalizeOptions({ wait: Wait.forPort(1) }).wait?.description).toBe("port 1/tcp");
    expect(() => normalizeOptions({ onLog: { stdout: "x" } as never })).toThrow(/onLog/);
    expect(() => normalizeOptions({ onLog: { stdin: () => undefined } as never })).toThrow(/onLog/);
    expect(normalizeOptions({ onLog: { stderr: () => undefined } }).onLog).toBeDefined();
  });
});
