import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { Container, Image, type RunningContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { networkTestKit } from "./kit.js";

const { start, checkAfterEach } = networkTestKit();
afterEach(checkAfterEach);

/** An IPv4 address of this machine other than loopback: what "every address" must include. */
function externalAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === "IPv4" && !a.internal);
  if (found === undefined) throw new Error("this machine has no non-loopback IPv4 address: publishing on 0.0.0.0 cannot be told apart from 127.0.0.1 here");
  return found.address;
}

async function body(url: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = await fetch(url).then(
      (r) => r.text(),
      () => undefined,
    );
    if (text !== undefined) return text;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never answered`);
}

/** True when `host:port` accepts a listener of ours: nothing else holds it. */
async function free(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true, ipv6Only: host.includes(":") }, () => server.close(() => resolve(true)));
  });
}

async function stopAndRemove(running: RunningContainer): Promise<void> {
  await (await running.stop({ timeoutMs: 1000 })).remove();
}

describe("published ports with a host address", () => {
  it("0.0.0.0 serves on every IPv4 address and leaves ::1 alone", async () => {
    const running = await start("exec probe http 8080 everywhere", { ports: ["0.0.0.0::8080"] });
    const port = running.hostPort(8080);
    expect(await body(`http://${externalAddress()}:${port}/`)).toBe("everywhere");
    expect(await body(`http://127.0.0.1:${port}/`)).toBe("everywhere");
    expect(await free("::1", port)).toBe(true);
    await stopAndRemove(running);
  });

  it("[::1] serves on ::1 only; { hostIp } on the container API does the same", async () => {
    for (const ports of [["[::1]::8080"], [{ container: 8080, hostIp: "::1" }]] as const) {
      const running = await start("exec probe http 8080 six", { ports: [...ports] });
      const port = running.hostPort(8080);
      expect(await body(`http://[::1]:${port}/`)).toBe("six");
      expect(await free("127.0.0.1", port)).toBe(true);
      await stopAndRemove(running);
    }
  });

  it("a UDP port on 127.0.0.1 answers there and leaves ::1 free", async () => {
    const running = await start("exec probe udp-echo 5353", { ports: ["127.0.0.1::5353/udp"] });
    const port = running.hostPort(5353, "udp");
    const client = createSocket("udp4");
    const replies: string[] = [];
    client.on("message", (m) => replies.push(m.toString()));
    for (let i = 0; i < 100 && replies.length === 0; i++) {
      client.send("ping", port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 20));
    }
    client.close();
    expect(replies[0]).toBe("ping");
    const v6 = createSocket({ type: "udp6", ipv6Only: true });
    await new Promise<void>((resolve, reject) => {
      v6.once("error", reject);
      v6.bind(port, "::1", () => resolve());
    });
    v6.close();
    await stopAndRemove(running);
  });

  it("publishes a range pairwise", async () => {
    const running = await start("probe http 8080 a & exec probe http 8081 b", { ports: ["127.0.0.1::8080-8081"] });
    expect(await body(`http://127.0.0.1:${running.hostPort(8080)}/`)).toBe("a");
    expect(await body(`http://127.0.0.1:${running.hostPort(8081)}/`)).toBe("b");
    await stopAndRemove(running);
  });

  it("refuses an address this machine does not have, and starts nothing", async () => {
    await expect(start("exec probe http 8080 x", { ports: ["192.0.2.254::8080"] })).rejects.toThrow(/192\.0\.2\.254 is not an address of this machine/);
    await expect(start("exec probe udp-echo 53", { ports: ["192.0.2.254::53/udp"] })).rejects.toThrow(/192\.0\.2\.254 is not an address of this machine/);
  });

  it("refuses a malformed address before anything starts", () => {
    const image = Image.fromRootfs(busyboxRootfs());
    expect(() => new Container(image, { ports: ["300.1.1.1:80:80"] })).toThrow(/ports\[0\]: "300.1.1.1" is not an IP address/);
    expect(() => new Container(image, { ports: [{ container: 80, hostIp: "localhost" }] })).toThrow(/ports\[0\]\.hostIp: "localhost" is not an IP address/);
  });
});
