import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../../src/config.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { bento } from "./helpers.js";

const made: string[] = [];
/** The keeper of each network made, and the helpers it started (they must end with it). */
const keepers: { pid: number; start: string }[] = [];

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** The keeper of network `name` (from its record) and its children, with their start times. */
function keeperProcesses(name: string): { pid: number; start: string }[] {
  const { keeperPid } = JSON.parse(readFileSync(join(config().runtimeDir, "networks", name, "network.json"), "utf8")) as { keeperPid: number };
  const children = readdirSync(`/proc/${keeperPid}/task`).flatMap((t) => readFileSync(`/proc/${keeperPid}/task/${t}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number));
  return [keeperPid, ...children].map((pid) => ({ pid, start: startTime(pid)! }));
}

function networksLeft(): string[] {
  const dir = join(config().runtimeDir, "networks");
  return existsSync(dir) ? readdirSync(dir).map((n) => `network dir ${n}`) : [];
}

afterEach(() => {
  const ids = made.splice(0);
  const alive = keepers.splice(0).filter((p) => startTime(p.pid) === p.start);
  expect([...leftovers(ids), ...helpersHolding(ids), ...alive.map((p) => `process ${p.pid}`), ...networksLeft()]).toEqual([]);
});

describe("bento network", () => {
  it("creates a network that containers of separate bento run -d processes join and reach each other on by name and alias; rm is refused while they run; nothing is left", async () => {
    const rootfs = busyboxRootfs();
    const created = await bento(["network", "create", "--label", "team=backend", "appnet"]);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    keepers.push(...keeperProcesses("appnet"));

    const serve = (page: string, port: number) => ["sh", "-c", `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p ${port} -h /www`];
    const web = await bento(["run", "-d", "--name", "netweb", "--network", "appnet", rootfs, ...serve("from-web", 80)]);
    expect(web.code, web.stderr).toBe(0);
    made.push(web.stdout.trim());
    const cli = await bento(["run", "-d", "--name", "netcli", "--network", "appnet", "--network-alias", "client", rootfs, ...serve("from-cli", 81)]);
    expect(cli.code, cli.stderr).toBe(0);
    made.push(cli.stdout.trim());

    // Each server answers on its own loopback first (it may not listen yet), then by name one way, by alias the other.
    const listening = (port: number) => `until wget -q -O /dev/null http://127.0.0.1:${port}/index.html; do sleep 0.05; done`;
    expect((await bento(["exec", "netweb", "sh", "-c", listening(80)])).code).toBe(0);
    expect((await bento(["exec", "netcli", "sh", "-c", listening(81)])).code).toBe(0);
    expect(await bento(["exec", "netcli", "wget", "-q", "-O", "-", "http://netweb/index.html"])).toMatchObject({ code: 0, stdout: "from-web\n" });
    expect(await bento(["exec", "netweb", "wget", "-q", "-O", "-", "http://client:81/index.html"])).toMatchObject({ code: 0, stdout: "from-cli\n" });

    const ls = await bento(["network", "ls"]);
    expect(ls.stdout).toMatch(new RegExp(`^NETWORK ID +NAME +DRIVER +SCOPE\\n${created.stdout.slice(0, 12)} +appnet +bridge +local\\n$`));
    const inspected = JSON.parse((await bento(["network", "inspect", "appnet"])).stdout) as Record<string, unknown>[];
    expect(inspected).toEqual([
      expect.objectContaining({
        Name: "appnet",
        Id: created.stdout.trim(),
        Driver: "bridge",
        IPAM: expect.objectContaining({ Config: [{ Subnet: "10.89.0.0/24", Gateway: "10.89.0.1" }] }),
        Labels: { team: "backend" },
        Containers: {
          [made[0]!]: expect.objectContaining({ Name: "netweb", IPv4Address: "10.89.0.2/24" }),
          [made[1]!]: expect.objectContaining({ Name: "netcli", IPv4Address: "10.89.0.3/24" }),
        },
      }),
    ]);
    expect(Date.parse(inspected[0]!.Created as string)).toBeGreaterThan(Date.now() - 600_000);

    const refused = await bento(["network", "rm", "appnet"]);
    expect(refused).toMatchObject({ code: 1, stdout: "" });
    expect(refused.stderr).toMatch(/^bento: network appnet has active endpoints \(netweb, netcli\)/);

    const removed = await bento(["rm", "-f", "netweb", "netcli"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await bento(["network", "rm", "appnet"])).toMatchObject({ code: 0, stdout: "appnet\n", stderr: "" });
    expect((await bento(["network", "ls", "-q"])).stdout).toBe("");
  }, 180_000);

  it("refuses a duplicate name, and names the unknown network with bento network ls", async () => {
    expect((await bento(["network", "create", "twice"])).code).toBe(0);
    keepers.push(...keeperProcesses("twice"));
    const again = await bento(["network", "create", "twice"]);
    expect(again).toMatchObject({ code: 1, stdout: "" });
    expect(again.stderr).toMatch(/^bento: network with name twice already exists/);
    expect(await bento(["network", "rm", "twice"])).toMatchObject({ code: 0, stdout: "twice\n" });

    const rmUnknown = await bento(["network", "rm", "nosuchnet"]);
    expect(rmUnknown).toMatchObject({ code: 1, stdout: "" });
    expect(rmUnknown.stderr).toMatch(/^bento: network nosuchnet not found; "bento network ls" lists the networks/);
    const runUnknown = await bento(["run", "--network", "nosuchnet", busyboxRootfs(), "true"]);
    expect(runUnknown.code).toBe(125);
    expect(runUnknown.stderr).toMatch(/^bento: network nosuchnet not found; "bento network ls" lists the networks/);
    const inspectUnknown = await bento(["network", "inspect", "nosuchnet"]);
    expect(inspectUnknown).toMatchObject({ code: 1, stdout: "[]\n" });
    const badName = await bento(["network", "create", "no/slash"]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/"no\/slash" is not a network name/);
    expect(await bento(["network", "create"])).toMatchObject({ code: 125 });
    const predefined = await bento(["network", "create", "bridge"]);
    expect(predefined.code).toBe(125);
    expect(predefined.stderr).toMatch(/^bento: network create bridge: "bridge" is docker's predefined network name; choose another/);
    expect(await bento(["run", "--network-alias", "x", busyboxRootfs(), "true"])).toMatchObject({ code: 125 });
  }, 120_000);
});
