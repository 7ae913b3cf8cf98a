import { describe, expect, it } from "vitest";
import { BentoError, InvalidOptionError } from "../../../src/errors.js";
import { Wait } from "../../../src/wait/wait.js";
import { fakeContext, fakeHealth, line } from "./fake-context.js";

describe("Wait.forLog", () => {
  it("counts matching lines, including those written before the wait", async () => {
    const context = fakeContext({ lines: [line("ready"), line("noise"), line("ready again")] });
    await expect(Wait.forLog("ready", { times: 2 }).waitUntilReady(context)).resolves.toBeUndefined();
    expect(context.notes.get('log "ready" 2 times')).toBe("seen 2 of 2");
  });

  it("matches a RegExp per line (a global flag does not skip lines) and filters a stream", async () => {
    const lines = [line("port 1"), line("port 2"), line("port 3", "stderr")];
    await expect(Wait.forLog(/port \d/g, { times: 3 }).waitUntilReady(fakeContext({ lines }))).resolves.toBeUndefined();
    await expect(Wait.forLog(/port \d/, { times: 3, stream: "stdout" }).waitUntilReady(fakeContext({ lines }))).rejects.toThrow("the output ended before log /port \\d/ 3 times on stdout (seen 2 of 3)");
  });

  it("rejects bad arguments when the strategy is made", () => {
    expect(() => Wait.forLog("")).toThrow(InvalidOptionError);
    expect(() => Wait.forLog("x", { times: 0 })).toThrow(/Wait.forLog.times/);
  });
});

describe("Wait.forCommand", () => {
  it("runs the command until it exits 0, noting the last failure", async () => {
    const codes = [1, 1, 0];
    const context = fakeContext({ exec: async () => ({ exitCode: codes.shift()!, stdout: "", stderr: "not yet\n" }) });
    await Wait.forCommand(["check"]).waitUntilReady(context);
    expect(codes).toEqual([]);
    expect(context.notes.get('command ["check"] to exit 0')).toBe("last run: exit 1: not yet");
  });

  it("stops when the signal aborts", async () => {
    const context = fakeContext({ exec: async () => ({ exitCode: 1, stdout: "", stderr: "" }) });
    const waiting = Wait.forCommand(["false"]).waitUntilReady(context);
    context.controller.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
  });
});

describe("Wait.forExit", () => {
  it("waits for the exit and checks its code", async () => {
    const strategy = Wait.forExit({ code: 3 });
    expect(strategy.waitsForExit).toBe(true);
    await expect(strategy.waitUntilReady(fakeContext({ exited: Promise.resolve({ exitCode: 3, oomKilled: false }) }))).resolves.toBeUndefined();
    await expect(Wait.forExit().waitUntilReady(fakeContext({ exited: Promise.resolve({ exitCode: 137, signal: "SIGKILL", oomKilled: true }) }))).rejects.toThrow("the container was killed by SIGKILL (out of memory), expected code 0");
  });
});

describe("Wait.forHealthy", () => {
  it("resolves at healthy and fails at unhealthy with the last output", async () => {
    const health = fakeHealth({ status: "starting", failingStreak: 0, log: [] });
    const waiting = Wait.forHealthy().waitUntilReady(fakeContext({ health }));
    health.push({ status: "healthy", failingStreak: 0, log: [] });
    await expect(waiting).resolves.toBeUndefined();

    const sick = fakeHealth({ status: "starting", failingStreak: 0, log: [] });
    const failing = Wait.forHealthy().waitUntilReady(fakeContext({ health: sick }));
    sick.push({ status: "unhealthy", failingStreak: 3, log: [{ start: "s", end: "e", exitCode: 1, output: "connection refused\n" }] });
    await expect(failing).rejects.toThrow("the healthcheck reported unhealthy after 3 failures in a row (last exit 1: connection refused)");
  });

  it("needs a healthcheck", async () => {
    await expect(Wait.forHealthy().waitUntilReady(fakeContext())).rejects.toThrow(/has no healthcheck/);
  });
});

describe("Wait.forPort and Wait.forHttp", () => {
  it("forPort needs a port when the container publishes and exposes none", async () => {
    await expect(Wait.forPort().waitUntilReady(fakeContext())).rejects.toThrow(/publishes and exposes no TCP port/);
    expect(() => Wait.forPort(70_000)).toThrow(/Wait.forPort.port/);
    expect(Wait.forPort().description).toBe("every published or exposed TCP port");
  });

  it("forHttp needs the port published", async () => {
    await expect(Wait.forHttp("/", 8080).waitUntilReady(fakeContext())).rejects.toThrow(/container port 8080 is not published/);
    expect(() => Wait.forHttp("health", 8080)).toThrow(/must start with "\/"/);
    expect(() => Wait.forHttp("/", 8080, { status: 42 })).toThrow(/Wait.forHttp.status/);
    expect(Wait.forHttp("/h", 80, { method: "post", status: [200, 204], body: /up/ }).description).toBe("HTTP POST /h on port 80 to answer status 200 or 204 and a body matching /up/");
  });
});

describe("Wait.forAll", () => {
  it("waits for every strategy and fails with the first failure", async () => {
    const context = fakeContext({ lines: [line("a"), line("b")], exited: Promise.resolve({ exitCode: 0, oomKilled: false }) });
    const all = Wait.forAll([Wait.forLog("a"), Wait.forLog("b"), Wait.forExit()]);
    expect(all.waitsForExit).toBe(true);
    await all.waitUntilReady(context);
    expect(context.notes.get('log "a"')).toBe("ready");
    const failing = Wait.forAll([Wait.forLog("a"), Wait.forHealthy()]);
    await expect(failing.waitUntilReady(fakeContext({ lines: [line("a")] }))).rejects.toThrow(BentoError);
    expect(() => Wait.forAll([])).toThrow(/Wait.forAll.strategies/);
  });

  it("is immutable", () => {
    const strategy = Wait.forAll([Wait.forPort(1)]);
    expect(Object.isFrozen(strategy)).toBe(true);
    expect(Object.isFrozen(Wait.forLog("x"))).toBe(true);
  });
});
