import { testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { listMachineContainers } from "../../../src/runtime/machine-containers.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { bento, waitUntil } from "./helpers.js";

const made: string[] = [];

afterEach(async () => {
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids)]).toEqual([]);
  expect((await bento(["ps", "-a", "-q"])).stdout).toBe("");
});

describe("kill, port, top and stats from new processes", () => {
  it("reach a detached container: its ports, its processes, its usage; kill -s delivers a signal, kill ends it", async () => {
    // The shell traps SIGHUP and says so; the sleep is a second process for top.
    const script = "trap 'echo got HUP' HUP; echo ready; while true; do sleep 1000 & wait $!; done";
    const started = await bento(["run", "-d", "--name", "sig", "-p", "8080", "-p", "127.0.0.1::53/udp", busyboxRootfs(), "sh", "-c", script]);
    expect(started.code).toBe(0);
    made.push(started.stdout.trim());

    const port = await bento(["port", "sig"]);
    expect(port).toMatchObject({ code: 0, stderr: "" });
    expect(port.stdout).toMatch(/^8080\/tcp -> 127\.0\.0\.1:(\d+)\n8080\/tcp -> \[::1\]:\1\n53\/udp -> 127\.0\.0\.1:\d+\n$/);
    expect((await bento(["port", "sig", "53/udp"])).stdout).toMatch(/^127\.0\.0\.1:\d+\n$/);
    expect(await bento(["port", "sig", "9999"])).toMatchObject({ code: 1, stderr: 'bento: no public port 9999 published for sig; "bento port sig" lists its ports\n' });

    const top = await bento(["top", "sig"]);
    expect(top.code).toBe(0);
    const lines = top.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+CMD$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(3).join(" "))).toEqual(expect.arrayContaining([`sh -c ${script}`, "sleep 1000"]));

    const stats = await bento(["stats", "--no-stream", "sig"]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE\s+MEM PEAK\s+PIDS\n[0-9a-f]{12}\s+sig\s+\d+\.\d\d%\s+\S+\s+\S+\s+[1-9]\d*\n$/);

    expect(await bento(["kill", "-s", "HUP", "sig"])).toMatchObject({ code: 0, stdout: "sig\n" });
    expect(await bento(["kill", "-s", "NOPE", "sig"])).toMatchObject({ code: 125 });
    expect((await bento(["inspect", "-f", "{{.State.Status}}", "sig"])).stdout).toBe("running\n");
    expect(await bento(["kill", "sig"])).toMatchObject({ code: 0, stdout: "sig\n" });
    expect((await bento(["wait", "sig"])).stdout).toBe("137\n");
    expect((await bento(["logs", "sig"])).stdout).toBe("ready\ngot HUP\n");
    // --since and --until, at the second line's own timestamp: from it, and before it.
    const stamped = (await bento(["logs", "-t", "sig"])).stdout.split("\n");
    const second = stamped[1]!.split(" ")[0]!;
    expect((await bento(["logs", "--since", second, "sig"])).stdout).toBe("got HUP\n");
    expect((await bento(["logs", "--until", second, "sig"])).stdout).toBe("ready\n");
    expect((await bento(["logs", "--since", "1h", "sig"])).stdout).toBe("ready\ngot HUP\n");
    expect(await bento(["logs", "--since", "yesterday-ish", "sig"])).toMatchObject({ code: 125 });
    expect(await bento(["top", "sig"])).toMatchObject({ code: 1 });
    expect(await bento(["rm", "sig"])).toMatchObject({ code: 0 });
  }, 180_000);
});

describe("bento run --rm -d", () => {
  it("removes the detached container once its command ended, whether at once or after bento stop", async () => {
    const quick = await bento(["run", "--rm", "-d", "--name", "quick", busyboxRootfs(), "true"]);
    expect(quick).toMatchObject({ code: 0, stderr: "" });
    made.push(quick.stdout.trim());
    const long = await bento(["run", "--rm", "-d", "--name", "long", busyboxRootfs(), "sleep", "1000"]);
    expect(long).toMatchObject({ code: 0, stderr: "" });
    made.push(long.stdout.trim());
    expect((await bento(["inspect", "-f", "{{.State.Status}}", "long"])).stdout).toBe("running\n");
    expect(await bento(["stop", "-t", "0", "long"])).toMatchObject({ code: 0 });
    // Its remover, a process in the background, removes each once it sees the exit.
    expect(await waitUntil(() => listMachineContainers().length === 0, 20_000)).toBe(true);
  }, 120_000);
});

describe("bento cp", () => {
  it("copies into and out of a detached container, running and then exited, its volume included", async () => {
    const host = mkdtempSync(join(testRoot, "cli-cp-"));
    writeFileSync(join(host, "note.txt"), "from the host\n", { mode: 0o640 });
    mkdirSync(join(host, "tree/sub"), { recursive: true });
    writeFileSync(join(host, "tree/sub/leaf"), "leaf\n");
    const started = await bento(["run", "-d", "--name", "cpbox", "-v", "cp-data:/data", busyboxRootfs(), "sh", "-c", "echo made > /data/made; echo inside > /inside; exec sleep 1000"]);
    expect(started.code).toBe(0);
    made.push(started.stdout.trim());

    expect(await bento(["cp", join(host, "note.txt"), "cpbox:/tmp/note.txt"])).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect((await bento(["exec", "cpbox", "stat", "-c", "%a %s", "/tmp/note.txt"])).stdout).toBe("640 14\n");
    expect(await bento(["cp", join(host, "tree"), "cpbox:/tmp"])).toMatchObject({ code: 0 });
    expect((await bento(["exec", "cpbox", "cat", "/tmp/tree/sub/leaf"])).stdout).toBe("leaf\n");
    expect(await bento(["cp", "cpbox:/inside", join(host, "out-running")])).toMatchObject({ code: 0 });
    expect(readFileSync(join(host, "out-running"), "utf8")).toBe("inside\n");

    expect(await bento(["stop", "-t", "0", "cpbox"])).toMatchObject({ code: 0 });
    // Exited: out of its upper dir and its volume; into its upper dir, seen when read back.
    expect(await bento(["cp", "cpbox:/tmp/tree", join(host, "tree-back")])).toMatchObject({ code: 0 });
    expect(readFileSync(join(host, "tree-back/sub/leaf"), "utf8")).toBe("leaf\n");
    expect(await bento(["cp", "cpbox:/data/made", host])).toMatchObject({ code: 0 });
    expect(readFileSync(join(host, "made"), "utf8")).toBe("made\n");
    expect(await bento(["cp", join(host, "note.txt"), "cpbox:/again.txt"])).toMatchObject({ code: 0 });
    expect(await bento(["cp", "cpbox:/again.txt", join(host, "again.txt")])).toMatchObject({ code: 0 });
    expect(statSync(join(host, "again.txt")).mode & 0o777).toBe(0o640);

    expect(await bento(["cp", "cpbox:/no/such", host])).toMatchObject({ code: 1, stderr: "bento: copyFrom: /no/such does not exist in container cpbox\n" });
    expect(await bento(["cp", join(host, "note.txt"), join(host, "x")])).toMatchObject({ code: 125 });
    expect(await bento(["rm", "cpbox"])).toMatchObject({ code: 0 });
    expect(await bento(["volume", "rm", "cp-data"])).toMatchObject({ code: 0 });
  }, 180_000);
});

describe("bento start and restart", () => {
  it("start an exited detached container again from a new process: same filesystem and host port; restart stops and starts it", async () => {
    // Each run appends to a file in the container's own filesystem and serves it.
    const script = "mkdir -p /www; echo run >> /www/runs; echo started; exec httpd -f -p 8080 -h /www";
    const started = await bento(["run", "-d", "--name", "again", "-p", "8080", busyboxRootfs(), "sh", "-c", script]);
    expect(started.code).toBe(0);
    made.push(started.stdout.trim());
    const port = (await bento(["port", "again", "8080"])).stdout;
    expect(port).toMatch(/^127\.0\.0\.1:\d+\n\[::1\]:\d+\n$/);
    const served = async () => (await fetch(`http://${port.split("\n")[0]}/runs`)).text();

    expect(await bento(["start", "again"])).toMatchObject({ code: 1, stderr: "bento: container again is already running\n" });
    expect(await bento(["stop", "-t", "0", "again"])).toMatchObject({ code: 0 });
    expect((await bento(["inspect", "-f", "{{.State.Status}}", "again"])).stdout).toBe("exited\n");
    expect(await bento(["start", "again"])).toMatchObject({ code: 0, stdout: "again\n", stderr: "" });
    expect((await bento(["inspect", "-f", "{{.State.Status}}", "again"])).stdout).toBe("running\n");
    expect((await bento(["port", "again", "8080"])).stdout).toBe(port);
    expect(await served()).toBe("run\nrun\n");

    expect(await bento(["restart", "-t", "0", "again"])).toMatchObject({ code: 0, stdout: "again\n", stderr: "" });
    expect((await bento(["exec", "again", "cat", "/www/runs"])).stdout).toBe("run\nrun\nrun\n");
    expect(await served()).toBe("run\nrun\nrun\n");
    expect((await bento(["logs", "again"])).stdout).toBe("started\nstarted\nstarted\n");
    expect(await bento(["rm", "-f", "again"])).toMatchObject({ code: 0 });
  }, 180_000);
});
