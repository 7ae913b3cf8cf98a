import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../../src/config.js";
import { readContainerRecord } from "../../../src/container/container-record.js";
import { Container, ContainerStateError, Image, InvalidOptionError, type ContainerOptions, type RunningContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const made: string[] = [];
const image = () => Image.fromRootfs(busyboxRootfs());

async function start(command: string[], options: ContainerOptions = {}): Promise<RunningContainer> {
  const running = await new Container(image(), { command, ...options }).start();
  made.push(running.id);
  return running;
}

afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

const ns = (c: RunningContainer, kind: string) => statSync(`/proc/${c.pid}/ns/${kind}`).ino;

describe("containers sharing namespaces (the container API)", () => {
  it("network: { container } reaches the other's listener on 127.0.0.1 and takes its hostname; exec runs there too", async () => {
    await using server = await start(["probe", "http", "8080", "served"]);
    await using client = await start(["sleep", "60"], { network: { container: server } });
    expect(ns(client, "net")).toBe(ns(server, "net"));
    expect(ns(client, "pid")).not.toBe(ns(server, "pid"));
    const r = await client.exec(["sh", "-c", "until wget -qO- http://127.0.0.1:8080/; do sleep 0.05; done; echo; hostname"]);
    expect(r.stdout).toBe(`served\n${(await server.exec(["hostname"])).stdout}`);
    // What `bento inspect` shows as HostConfig.NetworkMode.
    expect(readContainerRecord(join(config().home, "containers", client.id)).record.networkMode).toBe(`container:${server.name}`);
  });

  it("pid and ipc: { container } share the other's processes and IPC namespace", async () => {
    await using owner = await start(["sh", "-c", "echo shared > /dev/shm/mark; exec sleep 4321"]);
    await using guest = await start(["sleep", "60"], { pid: { container: owner }, ipc: { container: owner } });
    expect([ns(guest, "pid"), ns(guest, "ipc")]).toEqual([ns(owner, "pid"), ns(owner, "ipc")]);
    expect((await guest.exec(["sh", "-c", "ps -o args | grep -c '^sleep 4321'; cat /dev/shm/mark"])).stdout).toBe("1\nshared\n");
  });

  it("pid: { container }: stopping the guest ends the processes it started, orphans included, and leaves the owner's", async () => {
    await using owner = await start(["sleep", "4321"]);
    const guest = await start(["sh", "-c", "(sleep 7777 &); exec sleep 60"], { pid: { container: owner } });
    const count = async (args: string) => (await owner.exec(["sh", "-c", `ps -o args | grep -c '^sleep ${args}$' || true`])).stdout.trim();
    await expect.poll(() => count("7777")).toBe("1");
    await (await guest.stop()).remove();
    expect([await count("7777"), await count("60"), await count("4321")]).toEqual(["0", "0", "1"]);
  });

  it('pid and ipc: "host" see this machine\'s processes and share its IPC namespace', async () => {
    await using h = await start(["sleep", "60"], { pid: "host", ipc: "host" });
    expect([ns(h, "pid"), ns(h, "ipc")]).toEqual([statSync("/proc/self/ns/pid").ino, statSync("/proc/self/ns/ipc").ino]);
    expect((await h.exec(["cat", `/proc/${process.pid}/comm`])).stdout).toBe(readFileSync("/proc/self/comm", "utf8"));
  });

  it("refuses options the shared namespace decides, a non-container, and a stopped container, creating nothing", async () => {
    const owner = await start(["sleep", "60"]);
    expect(() => new Container(image(), { network: { container: owner }, hostname: "x" })).toThrow(InvalidOptionError);
    expect(() => new Container(image(), { network: { container: owner }, hostname: "x" })).toThrow(/hostname: a container in another container's network namespace takes the hostname from it/);
    expect(() => new Container(image(), { network: { container: owner }, ports: [80] })).toThrow(/ports: .* publish them on/);
    expect(() => new Container(image(), { network: { container: "db" as never } })).toThrow(/network\.container: must be a started container/);
    expect(() => new Container(image(), { ipc: "sharable" as never })).toThrow(/ipc: "sharable" is not a namespace; use "private", "shareable", "host", \{ container: runningContainer \}/);
    expect(() => new Container(image(), { devices: ["/dev/does-not-exist"] })).toThrow(/devices\[0\]: "\/dev\/does-not-exist" does not exist on this machine/);
    expect(() => new Container(image(), { privileged: "yes" as never })).toThrow(/privileged: "yes" must be true or false/);
    await (await owner.stop()).remove();
    const late = new Container(image(), { command: ["true"], network: { container: owner } });
    await expect(late.start()).rejects.toThrow(ContainerStateError);
    await expect(late.start()).rejects.toThrow(/shares the network namespace of .*, which is not running; start .* first/);
  });
});
