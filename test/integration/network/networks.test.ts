import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image, Network, type RunningContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { networkTestKit } from "./kit.js";

const { start, checkAfterEach } = networkTestKit();
afterEach(checkAfterEach);

/** GET / from `host`:80 inside `from` (busybox-static's wget crashes on name lookups; nc does not). */
async function fetchInside(from: RunningContainer, host: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const r = await from.exec(["sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${host} 80`]);
    const body = r.stdout.split("\r\n\r\n")[1];
    if (r.exitCode === 0 && body) return body;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error(`could not fetch http://${host}/`);
}

describe(`networks`, () => {
  it("lets members reach each other by name and alias, each listening on port 80", async () => {
    await using net = await new Network().create();
    const api = await start("exec probe http 80 api", { name: `api-${process.pid}`, network: net, aliases: ["backend"] });
    const web = await start("exec probe http 80 web", { name: `web-${process.pid}`, network: net });
    expect(await fetchInside(web, `api-${process.pid}`)).toBe("api");
    expect(await fetchInside(web, "backend")).toBe("api");
    expect(await fetchInside(api, `web-${process.pid}`)).toBe("web");
    const hosts = (await web.exec(["cat", "/etc/hosts"])).stdout;
    expect(hosts).toMatch(new RegExp(`^10\\.89\\.0\\.\\d+\\tapi-${process.pid} \\S+ backend$`, "m"));
    const ifaces = (await web.exec(["sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '"])).stdout.trim();
    expect(ifaces).toBe("eth0 lo");
    await (await api.stop({ timeoutMs: 1000 })).remove();
    expect((await web.exec(["cat", "/etc/hosts"])).stdout).not.toContain(`api-${process.pid}`);
    await (await web.stop({ timeoutMs: 1000 })).remove();
  });

  it("still publishes ports of members to the host", async () => {
    await using net = await new Network().create();
    const api = await start("exec probe http 8080 published", { network: net, ports: [8080] });
    let body = "";
    for (let i = 0; i < 100 && body !== "published"; i++) {
      body = await fetch(`http://127.0.0.1:${api.hostPort(8080)}/`).then(
        (r) => r.text(),
        () => "",
      );
      if (body !== "published") await new Promise((r) => setTimeout(r, 20));
    }
    expect(body).toBe("published");
    await (await api.stop({ timeoutMs: 1000 })).remove();
  });

  it("refuses a removed network and aliases without a network", async () => {
    const net = await new Network().create();
    await net.remove();
    await expect(start("true", { network: net })).rejects.toThrow(/network .* does not exist/);
    expect(() => new Container(Image.fromRootfs(busyboxRootfs()), { aliases: ["x"] })).toThrow(/aliases need a network/);
  });
});
