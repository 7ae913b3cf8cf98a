import { isRoot } from "../setup-env.js";
import { expectRootlessLimitsError } from "../rootless.js";
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { Container, type LogLine } from "../../../src/index.js";
import { Wait } from "../../../src/wait/wait.js";
import { leftovers } from "../leaks.js";
import { children } from "../stack/stack-checks.js";
import { dispose, expectNoLeftovers, image, start, startFails } from "./helpers.js";

afterEach(() => {
  expectNoLeftovers();
});

const repo = join(import.meta.dirname, "../../..");

describe(`healthchecks`, () => {
  it("waits for the image's HEALTHCHECK by default, and shows its state and history in inspect()", async () => {
    const withCheck = image().healthcheck(["CMD-SHELL", "test -e /tmp/up && echo fine"], { intervalMs: 100, retries: 50 });
    const running = await new Container(withCheck, { command: ["sh", "-c", "sleep 0.4; touch /tmp/up; exec sleep 30"] }).start();
    const { health } = (await running.inspect()).state;
    expect(health).toMatchObject({ status: "healthy", failingStreak: 0 });
    // Failures until /tmp/up exists, then success (a later probe may have run before inspect()).
    const firstSuccess = health!.log.findIndex((r) => r.exitCode === 0);
    expect(health!.log[firstSuccess]).toMatchObject({ exitCode: 0, output: "fine\n" });
    expect(health!.log.slice(0, firstSuccess).every((r) => r.exitCode === 1)).toBe(true);
    expect(Date.parse(health!.log[0]!.end)).toBeGreaterThanOrEqual(Date.parse(health!.log[0]!.start));
    await dispose(running);
  });

  it("fails at once when the healthcheck reports unhealthy, with its history", async () => {
    const error = await startFails("echo starting; exec sleep 30", { healthcheck: { test: "echo db down; exit 1", intervalMs: 100, retries: 3 } });
    expect(error).toMatchObject({ phase: "wait", timedOut: false, waitingFor: "the healthcheck to report healthy", logTail: ["starting"] });
    expect(error.health).toMatchObject({ status: "unhealthy", failingStreak: 3 });
    expect(error.health!.log.map((r) => [r.exitCode, r.output])).toEqual([
      [1, "db down\n"],
      [1, "db down\n"],
      [1, "db down\n"],
    ]);
    expect(error.message).toContain("the healthcheck reported unhealthy after 3 failures in a row (last exit 1: db down)\nhealthcheck: unhealthy, 3 failures in a row; last results:\n  ");
  });

  it("times out in the start period with the results so far", async () => {
    const error = await startFails("exec sleep 30", { healthcheck: { test: ["CMD", "false"], intervalMs: 100, startPeriodMs: 60_000, startIntervalMs: 100 }, startupTimeoutMs: 1000 });
    expect(error).toMatchObject({ phase: "wait", timedOut: true, health: { status: "starting", failingStreak: 0 } });
    expect(error.health!.log.length).toBeGreaterThan(0);
    expect(error.message).toContain("status starting, last probe exit 1");
  });

  it("keeps checking after the start, and starts over after a restart", async () => {
    // The start period absorbs a first probe that comes before the shell's touch (a loaded machine).
    const running = await start("touch /tmp/up; exec sleep 30", { healthcheck: { test: "test -e /tmp/up", intervalMs: 100, startPeriodMs: 60_000, startIntervalMs: 100, retries: 1 } });
    await running.exec(["rm", "/tmp/up"]);
    while ((await running.inspect()).state.health?.status !== "unhealthy") await new Promise((r) => setTimeout(r, 50));
    await running.restart({ timeoutMs: 0 });
    expect((await running.inspect()).state.health?.status).not.toBe("unhealthy");
    await dispose(running);
  });

  it("waits again on restart and on a stopped container's start, as the first start did", async () => {
    const running = await start("rm -f /tmp/up; sleep 0.3; touch /tmp/up; exec sleep 30", { healthcheck: { test: "test -e /tmp/up", intervalMs: 50, retries: 100 } });
    const t0 = Date.now();
    await running.restart({ timeoutMs: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect((await running.inspect()).state.health?.status).toBe("healthy");
    const stopped = await running.stop({ timeoutMs: 0 });
    const t1 = Date.now();
    const again = await stopped.start();
    expect(Date.now() - t1).toBeGreaterThanOrEqual(300);
    expect((await again.inspect()).state.health?.status).toBe("healthy");
    await dispose(again);
  });

  it("leaves no probe running after remove(), even one that was still in its command", async () => {
    const running = await start("exec sleep 30", { healthcheck: { test: "if [ -e /tmp/hang ]; then sleep 30; fi", intervalMs: 50, timeoutMs: 60_000, retries: 1 } });
    await running.exec(["touch", "/tmp/hang"]);
    const probes = () => children().filter((c) => c.includes("bento-shim exec"));
    while (probes().length === 0) await new Promise((r) => setTimeout(r, 20));
    await dispose(running);
    expect(probes()).toEqual([]);
  });

  it("runs no healthcheck with test NONE, and the start does not wait", async () => {
    const running = await new Container(image().healthcheck("exit 1", { intervalMs: 100 }), { command: ["sleep", "30"], healthcheck: { test: "NONE" } }).start();
    expect((await running.inspect()).state.health).toBeUndefined();
    await dispose(running);
  });
});

describe(`a container that exits during the wait`, () => {
  it("fails the start at once, not at the timeout, with its exit code and last log lines", async () => {
    const t0 = Date.now();
    const error = await startFails("echo opening db; echo bad config; exit 3", { wait: Wait.forLog("never"), startupTimeoutMs: 60_000 });
    // The deadline is 60 s away: anything near it would mean the exit went unnoticed.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(error).toMatchObject({ phase: "wait", exitCode: 3, signal: undefined, oomKilled: false, timedOut: false, logTail: ["opening db", "bad config"] });
    expect(error.message).toBe(`start ${error.message.split(" ")[1]} wait failed, exit code 3: the container exited while the start waited for log "never"\nlast log lines:\n  opening db\n  bad config`);
  });

  it("reports a signal and the OOM killer", async () => {
    const killed = await startFails("kill -KILL $$", { wait: Wait.forPort(80) });
    expect(killed).toMatchObject({ exitCode: 137, signal: "SIGKILL", oomKilled: false });
    expect(killed.message).toMatch(/wait failed, killed by SIGKILL: the container was killed while the start waited for port 80\/tcp/);
    if (!isRoot) return expectRootlessLimitsError(new Container(image(), { command: ["true"], resources: { memory: "16m" } }).start());
    const oom = await startFails("dd if=/dev/zero of=/dev/null bs=64M count=1", { resources: { memory: "16m" }, wait: Wait.forPort(80) });
    expect(oom).toMatchObject({ exitCode: 137, oomKilled: true });
    expect(oom.message).toContain("(out of memory)");
  });

  it("keeps the last 50 lines", async () => {
    const error = await startFails("for i in $(seq 1 120); do echo line $i; done; exit 1", { wait: Wait.forHttp("/", 80), ports: [80] });
    expect(error.logTail).toHaveLength(50);
    expect([error.logTail[0], error.logTail.at(-1)]).toEqual(["line 71", "line 120"]);
  });
});

describe(`startup options`, () => {
  it("delivers output to onLog, per stream", async () => {
    const seen: LogLine[] = [];
    // The two streams are two pipes: stderr's line may come after stdout's last, so both are awaited.
    let outDone!: () => void, errDone!: () => void;
    const finished = Promise.all([new Promise<void>((resolve) => (outDone = resolve)), new Promise<void>((resolve) => (errDone = resolve))]);
    const running = await start("echo to out; echo to err >&2; echo end", {
      wait: Wait.forExit(),
      onLog: {
        stdout: (line) => {
          seen.push(line);
          if (line.text === "end\n") outDone();
        },
        stderr: (line) => {
          seen.push(line);
          errDone();
        },
      },
    });
    await finished;
    // The two streams are two pipes: their lines keep their order within a stream only.
    expect(seen.filter((l) => l.stream === "stdout").map((l) => l.text)).toEqual(["to out\n", "end\n"]);
    expect(seen.filter((l) => l.stream === "stderr").map((l) => l.text)).toEqual(["to err\n"]);
    await dispose(running);
  });

  it("resolves as soon as the command runs when there is no wait and no healthcheck", async () => {
    const running = await start("exec sleep 30");
    expect((await running.inspect()).state).toMatchObject({ status: "running" });
    expect((await running.inspect()).state.health).toBeUndefined();
    await dispose(running);
  });

  it("multiplies startupTimeoutMs by BENTO_TIMEOUT_SCALE in every phase, and logs under BENTO_DEBUG=wait", async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(import.meta.dirname, "scaled-timeout-child.ts")], {
      cwd: repo,
      env: { ...process.env, BENTO_TIMEOUT_SCALE: "3", BENTO_DEBUG: "wait" },
    });
    const { wait, build, ids } = JSON.parse(stdout) as { wait: Record<string, unknown>; build: Record<string, unknown>; ids: string[] };
    expect(wait).toMatchObject({ phase: "wait", timedOut: true, timeoutMs: 3000 });
    expect(wait.message).toContain('timed out after 3000 ms (startupTimeoutMs 1000 x BENTO_TIMEOUT_SCALE 3) waiting for log "never"');
    expect(wait.elapsedMs).toBeGreaterThanOrEqual(3000);
    expect(build).toMatchObject({ phase: "build", timedOut: true, timeoutMs: 600 });
    expect(build.message).toMatch(/^start container: build failed: timed out after 600 ms \(startupTimeoutMs 200 x BENTO_TIMEOUT_SCALE 3\) waiting for the image/);
    expect(stderr).toMatch(/^bento:wait \S+ bento_\w+: waiting for log "never" \(\d+ ms left of 3000 ms/m);
    expect(stderr).toMatch(/^bento:wait \S+ bento_\w+: not ready: timed out after 3000 ms/m);
    expect(leftovers(ids)).toEqual([]);
  });
});
