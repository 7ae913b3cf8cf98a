import { isRoot } from "../setup-env.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { config } from "../../../src/config.js";
import { sweepOrphans, sweepOwnedBy } from "../../../src/runtime/state.js";
import { alive, leftovers, processesOf } from "../leaks.js";
import { waitUntil } from "../cli/helpers.js";

const repo = join(import.meta.dirname, "../../..");
const tsx = join(repo, "node_modules/tsx/dist/esm/index.mjs");

function nodeChild(script: string, args: string[]) {
  return spawn(process.execPath, ["--import", tsx, join(repo, "test/fixtures", script), ...args], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
}

describe(`teardown`, () => {
  it("kills every container of a SIGKILLed process within a second, and the next start sweeps what it left", async () => {
    const child = nodeChild("start-containers.ts", ["3"]);
    // A failed expectation must not leave the child (and its containers) running.
    onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGTERM")));
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const started = JSON.parse(line.toString()) as { id: string; pid: number }[];
    const ids = started.map((s) => s.id);
    // init, sh and two sleeps each (shims sit outside); the shells fork their sleeps after start() returns.
    expect(await waitUntil(() => processesOf(ids).length >= 9, 2000)).toBe(true);
    child.kill("SIGKILL");
    await once(child, "exit");
    const t0 = Date.now();
    expect(await waitUntil(() => processesOf(ids).length === 0 && started.every((s) => !alive(s.pid)), 1000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    // The kernel killed the processes; cgroups (none rootless) and directories wait for the next start's sweep.
    expect(leftovers(ids).some((l) => l.startsWith(isRoot ? "cgroup" : "dir"))).toBe(true);
    const next = nodeChild("start-containers.ts", ["1"]);
    onTestFinished(() => void (next.exitCode === null && next.signalCode === null && next.kill("SIGTERM")));
    const [nextLine] = (await once(next.stdout!, "data")) as [Buffer];
    const nextIds = (JSON.parse(nextLine.toString()) as { id: string }[]).map((s) => s.id);
    expect(leftovers(ids)).toEqual([]);
    next.kill("SIGTERM"); // exit hooks remove its container
    await once(next, "exit");
    expect(await waitUntil(() => leftovers(nextIds).length === 0, 2000)).toBe(true);
  });

  it("keeps a container started from a worker thread running after the worker exits", async () => {
    const worker = new Worker(join(repo, "test/fixtures/worker-bootstrap.mjs"), { workerData: { script: join(repo, "test/fixtures/worker-start.ts") } });
    const [started] = (await once(worker, "message")) as [{ id: string; pid: number }];
    await once(worker, "exit");
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(started.pid)).toBe(true);
    // What the main thread's exit hook does for containers no live object tracks:
    expect(sweepOwnedBy(join(config().runtimeDir, "containers"), process.pid)).toEqual([started.id]);
    expect(await waitUntil(() => leftovers([started.id]).length === 0, 2000)).toBe(true);
  });

  it("survives worker threads terminated while the addon works for them (a test runner's threads pool)", { timeout: 120_000 }, async () => {
    // A container's exit or a thread-pool job's end lands, at some of these offsets, while the
    // worker's env is ending: the addon called into that env from C++ and an exception it could
    // not throw aborted the whole process (vitest's threads pool in CI).
    const child = nodeChild("terminate-workers.ts", []);
    onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGTERM")));
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
    expect({ code, signal, survived: out.includes("survived") }).toEqual({ code: 0, signal: null, survived: true });
    const ids = JSON.parse(out.split("\n")[0]!) as string[];
    expect(ids).toHaveLength(21);
    // A container whose exit came as its worker ended keeps its directories (no thread was left
    // to remove them, and only a main thread holds exit hooks); the next start sweeps them.
    expect(await waitUntil(() => leftovers(ids).every((l) => l.startsWith("dir ")), 2000)).toBe(true);
    sweepOrphans(join(config().runtimeDir, "containers"));
    expect(leftovers(ids)).toEqual([]);
  });
});
