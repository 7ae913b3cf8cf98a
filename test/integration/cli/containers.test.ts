import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../../src/config.js";
import { diskBytes } from "../../../src/runtime/machine-containers.js";
import { leftovers, processesOf } from "../leaks.js";
import { bento, ownerTracker, stopOwner, waitUntil } from "./helpers.js";

const { owner, checkAfterEach } = ownerTracker(leftovers);
afterEach(checkAfterEach);

interface PsRow {
  id: string;
  name: string;
  status: string;
  ownerPid: number | null;
  ownerAlive: boolean;
  created: string | null;
  pids: number[];
}

async function psJson(all = true): Promise<PsRow[]> {
  const r = await bento(["ps", ...(all ? ["-a"] : []), "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as PsRow[];
}

describe("usage errors", () => {
  it("exit 125 with the usage on stderr, as docker's", async () => {
    const cases = [[], ["nope"], ["ps", "--bogus"], ["ps", "extra"], ["logs"], ["logs", "--tail", "x", "c"], ["rm"], ["run"], ["run", "-p", "300.1.1.1:80:80", "/"], ["compose"], ["build"]];
    // Two at a time, as many as this machine's cores: all eleven at once compile the CLI together
    // and, on a loaded CI machine, outlast the test's timeout.
    const results: Awaited<ReturnType<typeof bento>>[] = [];
    for (let i = 0; i < cases.length; i += 2) results.push(...(await Promise.all(cases.slice(i, i + 2).map((args) => bento(args)))));
    for (const [i, args] of cases.entries()) {
      const r = results[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 125, stdout: "" });
      expect(r.stderr).toMatch(/Usage: bento/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await bento(["ps", "--bogus"])).stderr).toMatch(/^bento: unknown option --bogus\n/);
  });

  it("--help prints the usage on stdout and exits 0", async () => {
    for (const r of await Promise.all([["--help"], ["ps", "--help"], ["run", "-h"], ["volume", "--help"]].map((args) => bento(args)))) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: bento/);
    }
  });

  it("prints runtime errors as one line, and a stack with BENTO_DEBUG", async () => {
    const r = await bento(["logs", "no-such-container"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('bento: no container on this machine is named "no-such-container" or has an id starting with it; "bento ps -a" lists them\n');
    const debug = await bento(["logs", "no-such-container"], { env: { BENTO_DEBUG: "*" } });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^bento: BentoError: no container/);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe(`containers of other processes`, () => {
  it("ps shows another process's container as running, and as left behind once that process is SIGKILLed; prune sweeps it", async () => {
    const o = await owner(["cli-ps=sleep 1000"]);
    const [c] = o.started;
    const table = await bento(["ps"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+OWNER PID\s+CREATED$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(new RegExp(`^${c!.id.slice(0, 12)}\\s+cli-ps\\s+running\\s+${o.child.pid}\\s+(Less than a second|\\d+ seconds?) ago$`));
    const [row] = await psJson();
    expect(row).toMatchObject({ id: c!.id, name: "cli-ps", status: "running", ownerPid: o.child.pid, ownerAlive: true });
    expect(row!.pids.length).toBeGreaterThan(0);

    await stopOwner(o, "SIGKILL");
    // The kernel kills its processes; its files stay until a sweep.
    expect(await waitUntil(() => processesOf([c!.id]).length === 0, 2000)).toBe(true);
    expect((await bento(["ps"])).stdout).toBe("ID   NAME   STATUS   OWNER PID   CREATED\n");
    const all = await bento(["ps", "-a"]);
    expect(all.stdout).toMatch(new RegExp(`\\n${c!.id.slice(0, 12)}\\s+cli-ps\\s+left behind\\s+${o.child.pid}\\s`));
    expect((await psJson())[0]).toMatchObject({ id: c!.id, status: "left-behind", ownerAlive: false });

    const prune = await bento(["prune"]);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toMatch(new RegExp(`^Deleted containers:\\n${c!.id.slice(0, 12)}   cli-ps\\n`));
    expect(prune.stdout).toMatch(/Total reclaimed space: \d/);
    expect(await psJson()).toEqual([]);
    expect(leftovers([c!.id])).toEqual([]);
    // The name is free again.
    expect(existsSync(join(config().runtimeDir, "names", "cli-ps"))).toBe(false);
  });

  it("prune reports the bytes it actually freed: a left-behind container's 30 MB anonymous volume counts", async () => {
    const o = await owner(["cli-vol:/data=head -c 30000000 /dev/urandom > /data/big"], true);
    await stopOwner(o, "SIGKILL");
    const before = diskBytes(config().home);
    const prune = await bento(["prune"]);
    expect(prune.code).toBe(0);
    const freed = before - diskBytes(config().home);
    expect(freed).toBeGreaterThan(30_000_000);
    const reported = /Total reclaimed space: ([\d.]+)MB\n$/.exec(prune.stdout);
    expect(reported, prune.stdout).not.toBeNull();
    // Within the rounding of the printed value (three significant digits).
    expect(Math.abs(Number(reported![1]) * 1e6 - freed)).toBeLessThan(1e6);
  });

  it("rm refuses a container whose process is alive; rm -f kills it through its cgroups and removes its files", async () => {
    const o = await owner(["cli-rm=sleep 1000 & sleep 1000"]);
    const [c] = o.started;
    const refused = await bento(["rm", "cli-rm"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`bento: container cli-rm belongs to process ${o.child.pid}, which is still running; stop it there, or remove it anyway (killing its processes) with -f\n`);
    expect(processesOf([c!.id]).length).toBeGreaterThanOrEqual(3);

    const forced = await bento(["rm", "-f", c!.id.slice(0, 10)]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`${c!.id.slice(0, 10)}\n`);
    expect(forced.stderr).toBe(`bento: cli-rm belonged to process ${o.child.pid}, which is still running: killed its processes and removed its files; that process sees its container exit\n`);
    expect(leftovers([c!.id])).toEqual([]);
    expect(o.child.exitCode).toBeNull(); // the owner lives on
    expect(await psJson()).toEqual([]);
  });

  it("rm removes a left-behind container at once, and names every container it cannot find", async () => {
    const o = await owner(["cli-rm-left=sleep 1000"]);
    const [c] = o.started;
    await stopOwner(o, "SIGKILL");
    const r = await bento(["rm", "cli-rm-left", "nothing-here"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("cli-rm-left\n");
    expect(r.stderr).toMatch(/^bento: no container on this machine is named "nothing-here"/);
    expect(leftovers([c!.id])).toEqual([]);
  });

  it("shows a container directory whose runtime state is gone as left behind; prune removes it once it is a minute old", async () => {
    // What a reboot leaves: BENTO_RUNTIME_DIR (a tmpfs) is empty, the store still has the container.
    const id = "d".repeat(64),
      fresh = "e".repeat(64);
    for (const [cid, name] of [
      [id, "cli-rebooted"],
      [fresh, "cli-being-made"],
    ] as const) {
      const dir = join(config().home, "containers", cid);
      mkdirSync(join(dir, "upper"), { recursive: true });
      writeFileSync(join(dir, "config.json"), JSON.stringify({ id: cid, name, imageId: null, labels: {}, volumes: [] }));
      writeFileSync(join(dir, "container.log"), "1700000000000000000 o before the reboot\n");
    }
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(config().home, "containers", id, "config.json"), old, old);
    expect(await psJson()).toMatchObject([
      { id: fresh, name: "cli-being-made", status: "left-behind", ownerPid: null },
      { id, name: "cli-rebooted", status: "left-behind", ownerPid: null },
    ]);
    expect((await bento(["logs", "cli-rebooted"])).stdout).toBe("before the reboot\n");
    const prune = await bento(["prune"]);
    expect(prune.stdout).toMatch(new RegExp(`^Deleted containers:\n${id.slice(0, 12)}   cli-rebooted\n\n`));
    expect((await psJson()).map((c) => c.name)).toEqual(["cli-being-made"]);
    expect((await bento(["rm", "cli-being-made"])).code).toBe(0);
    expect(leftovers([id, fresh])).toEqual([]);
  });

  it("ps shows a stopped container of a live process as stopped", async () => {
    const o = await owner(["cli-stopped=true"], true);
    const rows = await psJson(false);
    expect(rows).toMatchObject([{ id: o.started[0]!.id, name: "cli-stopped", status: "stopped", ownerAlive: true, pids: [] }]);
    const quiet = await bento(["ps", "-q"]);
    expect(quiet.stdout).toBe(`${o.started[0]!.id.slice(0, 12)}\n`);
  });
});
