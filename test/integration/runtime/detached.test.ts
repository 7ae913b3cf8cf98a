import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Container, Image } from "../../../src/index.js";
import { config } from "../../../src/config.js";
import { Network } from "../../../src/network/network.js";
import { findMachineContainer, sweepLeftBehind } from "../../../src/runtime/machine-containers.js";
import { sweepOrphans } from "../../../src/runtime/state.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";

const repo = join(import.meta.dirname, "../../..");
const tsx = join(repo, "node_modules/tsx/dist/esm/index.mjs");
const made: string[] = [];

afterEach(async () => {
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids)]).toEqual([]);
});

/** Starts a detached container from a child process that then ends by itself; resolves with its id once it did. */
async function startFromChild(name: string, script: string): Promise<string> {
  const child = spawn(process.execPath, ["--import", tsx, join(repo, "test/fixtures/start-detached.ts"), name, script], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const [code] = (await once(child, "exit")) as [number | null];
  expect(code).toBe(0);
  const { id } = JSON.parse(out) as { id: string };
  made.push(id);
  return id;
}

describe("detached containers", () => {
  it("outlive the process that started them; another process execs, reads logs, stops, waits for and removes them", async () => {
    const id = await startFromChild("det-api", "echo up; trap 'echo bye; exit 7' TERM; while :; do sleep 0.1; done");
    const db = await Container.attach("det-api");
    expect(db.id).toBe(id);
    expect(db.status).toBe("running");
    // Its helper (and bento's init, the helper's child) hold its lock for it.
    expect(helpersHolding([id]).length).toBeGreaterThan(0);
    expect(await db.exec(["sh", "-c", "echo $((6 * 7))"])).toEqual({ exitCode: 0, stdout: "42\n", stderr: "" });
    expect(await db.logs()).toBe("up\n");
    await expect(db.remove()).rejects.toMatchObject({ code: "ERR_CONTAINER_RUNNING" });
    // The sweep every start runs leaves it alone: its helper holds its lock.
    expect(sweepOrphans(join(config().runtimeDir, "containers"))).toEqual([]);

    expect(await db.stop()).toMatchObject({ exitCode: 7, oomKilled: false });
    expect(db.status).toBe("exited");
    expect(await db.logs()).toBe("up\nbye\n");
    expect((await (await Container.attach(id.slice(0, 12))).wait()).exitCode).toBe(7);
    await expect(db.exec(["true"])).rejects.toThrow(/is not running/);
    // Exited, it waits for its removal (as docker keeps it), through the sweep too.
    expect(sweepOrphans(join(config().runtimeDir, "containers"))).toEqual([]);
    await db.remove();
    expect(() => findMachineContainer("det-api")).toThrow(/no container on this machine is named "det-api"/);
  });

  it("is killed and removed by remove({ force: true }) while it runs", async () => {
    const id = await startFromChild("det-force", "sleep 1000");
    await (await Container.attach("det-force")).remove({ force: true });
    expect(() => findMachineContainer(id)).toThrow(/no container/);
  });

  it("whose helper died is reported and cleaned like any leftover", async () => {
    const id = await startFromChild("det-orphan", "sleep 1000");
    const [helper] = helpersHolding([id]);
    process.kill(Number(helper!.split(" ")[1]), "SIGKILL");
    await expect.poll(() => findMachineContainer(id).status).toBe("left-behind");
    expect(sweepLeftBehind().map((c) => c.id)).toEqual([id]);
  });

  it("that exited are removed by a prune", async () => {
    const id = await startFromChild("det-prune", "exit 0");
    const c = await Container.attach(id);
    expect((await c.wait()).exitCode).toBe(0);
    await expect.poll(() => findMachineContainer(id).status).toBe("exited");
    expect(sweepLeftBehind().map((s) => s.id)).toEqual([id]);
  });

  it("refuse bad input with an error naming it, and create nothing", async () => {
    const image = Image.fromRootfs(busyboxRootfs());
    expect(() => new Container(image, { detach: "yes" as unknown as boolean })).toThrow(/detach: "yes" must be true or false/);
    expect(() => new Container(image, { detach: true, network: new Network() })).toThrow(/detach: a container on a Network cannot outlive this process yet/);
    await expect(Container.attach("no-such-container")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    await using bound = await new Container(image, { name: "det-bound", command: ["sleep", "1000"] }).start();
    made.push(bound.id);
    await expect(Container.attach("det-bound")).rejects.toThrow(/det-bound was not started detached: it belongs to process \d+/);
  });
});
