import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { Container } from "../../../src/index.js";
import { Wait } from "../../../src/wait/wait.js";
import { WaitTimeoutError } from "../../../src/wait/wait-timeout-error.js";
import { dispose, expectNoLeftovers, image, start, startFails } from "./helpers.js";

afterEach(() => {
  expectNoLeftovers();
});

describe(`wait strategies`, () => {
  it("forLog: resolves after the line appeared `times` times", async () => {
    const running = await start("echo ready; sleep 0.2; echo not yet; sleep 0.2; echo ready; exec sleep 30", { wait: Wait.forLog("ready", { times: 2 }) });
    expect((await running.logs()).match(/^ready$/gm)).toHaveLength(2);
    await dispose(running);
  });

  it("forLog: times out with the log tail", async () => {
    const error = await startFails("echo starting; exec sleep 30", { wait: Wait.forLog(/listening/), startupTimeoutMs: 1000 });
    expect(error).toMatchObject({ phase: "wait", timedOut: true, waitingFor: "log /listening/", logTail: ["starting"], exitCode: undefined });
    expect(error.cause).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toMatch(/^start bento_\w+: wait failed: timed out after 1000 ms waiting for log \/listening\/ \(seen 0 of 1\)/);
  });

  it("forPort: resolves once the port listens inside the container; the published port then answers", async () => {
    const running = await start("sleep 0.5; exec probe http 8080 hello", { ports: [8080], wait: Wait.forPort(8080) });
    const res = await fetch(`http://${running.host}:${running.hostPort(8080)}/`);
    expect([res.status, await res.text()]).toEqual([200, "hello"]);
    await dispose(running);
  });

  it("forPort: waits for every published and exposed port by default", async () => {
    const script = "probe http 8081 a & sleep 0.3; exec probe http 8082 b";
    const running = await new Container(image().expose(8081), { command: ["sh", "-c", script], ports: [8082, 8081], wait: Wait.forPort() }).start();
    const bodies = await Promise.all([8081, 8082].map(async (p) => (await fetch(`http://127.0.0.1:${running.hostPort(p)}/`)).text()));
    expect(bodies).toEqual(["a", "b"]);
    await dispose(running);
  });

  it("forPort: times out saying which ports listened inside", async () => {
    const error = await startFails("exec probe http 9090 x", { ports: [8080], wait: Wait.forPort(8080), startupTimeoutMs: 1000 });
    expect(error).toMatchObject({ phase: "wait", timedOut: true, listeningPorts: [9090] });
    expect(error.message).toContain("waiting for port 8080/tcp (not listening yet: 8080/tcp)");
    expect(error.message).toContain("\nlistening inside the container: 9090/tcp");
  });

  it("forHttp: resolves on the expected status and body through the published port", async () => {
    const running = await start('sleep 0.3; exec probe http 8080 \'{"status":"up"}\'', {
      ports: [8080],
      wait: Wait.forHttp("/health", 8080, { status: 200, body: /"status":"up"/, headers: { accept: "application/json" } }),
    });
    expect(await (await fetch(`http://127.0.0.1:${running.hostPort(8080)}/health`)).text()).toBe('{"status":"up"}');
    await dispose(running);
  });

  it("forHttp: times out with the last answer", async () => {
    const error = await startFails("exec probe http 8080 hello", { ports: [8080], wait: Wait.forHttp("/", 8080, { status: 204 }), startupTimeoutMs: 1000 });
    expect(error).toMatchObject({ phase: "wait", timedOut: true });
    expect(error.message).toContain('waiting for HTTP GET / on port 8080 to answer status 204 (last answer: status 200, body "hello")');
  });

  it("forCommand: resolves once the command exits 0", async () => {
    const running = await start("sleep 0.3; touch /tmp/ready; exec sleep 30", { wait: Wait.forCommand(["test", "-e", "/tmp/ready"]) });
    expect((await running.exec(["test", "-e", "/tmp/ready"])).exitCode).toBe(0);
    await dispose(running);
  });

  it("forCommand: times out with the last run's exit and output", async () => {
    const error = await startFails("exec sleep 30", { wait: Wait.forCommand(["sh", "-c", "echo no database; exit 2"]), startupTimeoutMs: 1000 });
    expect(error).toMatchObject({ phase: "wait", timedOut: true });
    expect(error.message).toContain("(last run: exit 2: no database)");
  });

  it("forExit: resolves when a one-shot container exits with the code", async () => {
    const running = await start("echo migrated", { wait: Wait.forExit() });
    expect(await running.wait()).toMatchObject({ exitCode: 0 });
    expect(await running.logs()).toBe("migrated\n");
    expect((await running.inspect()).state.status).toBe("exited");
    await dispose(running);
  });

  it("forExit: fails on another exit code, and times out when the container keeps running", async () => {
    const wrong = await startFails("echo failed >&2; exit 3", { wait: Wait.forExit() });
    expect(wrong).toMatchObject({ phase: "wait", exitCode: 3, timedOut: false, logTail: ["failed"] });
    expect(wrong.message).toMatch(/^start bento_\w+: wait failed, exit code 3: the container exited with code 3, expected code 0\nlast log lines:\n {2}failed$/);
    const running = await startFails("exec sleep 30", { wait: Wait.forExit(), startupTimeoutMs: 500 });
    expect(running).toMatchObject({ timedOut: true, waitingFor: "the container to exit with code 0" });
  });

  it("forAll: resolves once every strategy is ready", async () => {
    const running = await start("echo booting; sleep 0.3; probe http 8080 ok & sleep 0.3; echo ready; exec sleep 30", {
      ports: [8080],
      wait: Wait.forAll([Wait.forPort(8080), Wait.forLog("ready"), Wait.forHttp("/", 8080, { body: "ok" })]),
    });
    expect(await running.logs()).toContain("ready");
    await dispose(running);
  });

  it("forAll: times out naming what is still pending", async () => {
    const error = await startFails("echo ready; exec sleep 30", { wait: Wait.forAll([Wait.forLog("ready"), Wait.forCommand(["false"])]), startupTimeoutMs: 1000 });
    expect(error.message).toContain('waiting for all of: log "ready"; command ["false"] to exit 0 (log "ready": ready; command ["false"] to exit 0: last run: exit 1)');
  });
});
