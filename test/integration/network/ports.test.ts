import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { Container, Image, type RunningContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { networkTestKit } from "./kit.js";

const { start, made, checkAfterEach } = networkTestKit();
afterEach(checkAfterEach);

/** Waits until something listens on `port` inside the container (its /proc/net/tcp). */
async function listening(running: RunningContainer, port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  for (let i = 0; i < 200; i++) {
    const { stdout } = await running.exec(["cat", "/proc/net/tcp", "/proc/net/tcp6"]);
    if (stdout.split("\n").some((l) => l.includes(hex) && l.split(/\s+/)[4] === "0A")) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port} in the container`);
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true }, () => resolve(s));
    s.once("error", reject);
  });
}

function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("close", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe(`published ports`, () => {
  it("serves HTTP through the same host port on IPv4 and IPv6, and 200 connections at once", async () => {
    const running = await start("exec probe http 8080 hello", { ports: [8080] });
    await listening(running, 8080);
    const port = running.hostPort(8080);
    for (const host of ["127.0.0.1", "[::1]"]) {
      const res = await fetch(`http://${host}:${port}/`);
      expect([res.status, await res.text()]).toEqual([200, "hello"]);
    }
    const replies = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const s = await open("127.0.0.1", port);
        s.end("GET / HTTP/1.0\r\n\r\n");
        return (await readAll(s)).toString();
      }),
    );
    expect(replies.filter((r) => r.startsWith("HTTP/1.0 200") && r.endsWith("hello"))).toHaveLength(200);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it("moves 100 MB intact each way", async () => {
    const running = await start("nc -l -p 9000 > /tmp/in; nc -l -p 9001 < /tmp/in; sleep 30", { ports: [9000, 9001], mounts: [{ tmpfs: "/tmp" }] });
    await listening(running, 9000);
    const data = randomBytes(100 * 1024 * 1024);
    const up = await open("127.0.0.1", running.hostPort(9000));
    const upClosed = readAll(up);
    up.end(data);
    await upClosed;
    await listening(running, 9001);
    expect((await running.exec(["sha256sum", "/tmp/in"])).stdout.split(" ")[0]).toBe(sha256(data));
    const down = await open("::1", running.hostPort(9001));
    expect(sha256(await readAll(down))).toBe(sha256(data));
    await (await running.stop({ timeoutMs: 1000 })).remove();
  }, 120_000);

  it("carries a half-close: the server answers after the client finished sending", async () => {
    const running = await start("exec nc -ll -p 9002 -e wc -c", { ports: [9002] });
    await listening(running, 9002);
    const s = await open("127.0.0.1", running.hostPort(9002));
    const reply = readAll(s);
    s.end("12345");
    expect((await reply).toString().trim()).toBe("5");
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it("closes the outside connection when the inside one is refused", async () => {
    const running = await start("sleep 30", { ports: [{ container: 7777, host: 0 }] });
    const s = await open("127.0.0.1", running.hostPort(7777));
    expect((await readAll(s)).length).toBe(0);
    expect(() => running.hostPort(80)).toThrow(/does not publish 80\/tcp \(published: 7777\/tcp\)/);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it("refuses a connection to the published port of an exited container (ECONNREFUSED, as Docker), and serves it again after a restart", async () => {
    const refused = (host: string, port: number) =>
      open(host, port).then(
        (s) => (s.destroy(), "accepted"),
        (e: NodeJS.ErrnoException) => e.code,
      );
    const exited = await start("exit 3", { ports: [9003, { container: 9004, host: 0, hostIp: "127.0.0.1" }] });
    await exited.wait();
    expect(await refused("127.0.0.1", exited.hostPort(9003))).toBe("ECONNREFUSED");
    expect(await refused("::1", exited.hostPort(9003))).toBe("ECONNREFUSED");
    expect(await refused("127.0.0.1", exited.hostPort(9004))).toBe("ECONNREFUSED");
    await (await exited.stop()).remove();

    const running = await start("exec nc -ll -p 9005 -e echo hi", { ports: [9005] });
    const port = running.hostPort(9005);
    await listening(running, 9005);
    const stopped = await running.stop({ timeoutMs: 1000 });
    expect(await refused("127.0.0.1", port)).toBe("ECONNREFUSED");
    const again = await stopped.start();
    expect(again.hostPort(9005)).toBe(port);
    await listening(again, 9005);
    expect((await readAll(await open("::1", port))).toString()).toBe("hi\n");
    await (await again.stop({ timeoutMs: 1000 })).remove();
  });

  it("publishes an image's EXPOSE'd ports when no ports are given", async () => {
    const image = Image.fromRootfs(busyboxRootfs()).expose(8081).cmd(["sh", "-c", "mkdir -p /w && echo x > /w/index.html && exec httpd -f -p 8081 -h /w"]);
    const running = await new Container(image).start();
    made.push(running.id);
    await listening(running, 8081);
    expect((await fetch(`http://127.0.0.1:${running.hostPort(8081)}/`)).status).toBe(200);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it('shares the host\'s network with network: "host"', async () => {
    const r = await start("ls /sys/class/net | sort | tr '\\n' ' '", { network: "host" });
    await r.wait();
    const inside = (await r.logs()).trim();
    const host = execFileSync("sh", ["-c", "ls /sys/class/net | sort | tr '\\n' ' '"], { encoding: "utf8" }).trim();
    expect(inside).toBe(host);
    await (await r.stop()).remove();
  });

  it("rejects bad port specs", () => {
    const image = Image.fromRootfs(busyboxRootfs());
    expect(() => new Container(image, { ports: ["http"] })).toThrow(/ports\[0\]: "http" is not a port/);
    expect(() => new Container(image, { ports: [70000] })).toThrow(/ports\[0\]/);
    expect(() => new Container(image, { ports: [80, "80/tcp"] })).toThrow(/published twice/);
  });
});

describe(`published UDP ports`, () => {
  it("echoes UDP datagrams through the published port on IPv4 and IPv6, per client", async () => {
    const { createSocket } = await import("node:dgram");
    const running = await start("exec probe udp-echo 5353", { ports: ["5353/udp"] });
    const port = running.hostPort(5353, "udp");
    expect(() => running.hostPort(5353)).toThrow(/does not publish 5353\/tcp/);
    for (const [type, host] of [
      ["udp4", "127.0.0.1"],
      ["udp6", "::1"],
    ] as const) {
      const client = createSocket(type);
      const replies: string[] = [];
      client.on("message", (m) => replies.push(m.toString()));
      for (let i = 0; i < 100 && replies.length === 0; i++) {
        client.send(`ping-${type}`, port, host);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(replies[0]).toBe(`ping-${type}`);
      client.close();
    }
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });
});
