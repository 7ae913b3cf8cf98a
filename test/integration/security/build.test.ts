import { isRoot } from "../setup-env.js";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Image } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, runImage } from "../builder/helpers.js";
import { hostDisk } from "./kit.js";

afterEach(() => expectNoLeaks());

describe(`build RUN steps`, () => {
  it("cannot read the host's disk through mknod in a RUN step", async () => {
    const image = Image.fromRootfs(busyboxRootfs()).run(`mknod /dev/disk b ${hostDisk()}; (head -c 512 /dev/disk | wc -c) > /read-bytes 2>/dev/null; true`).cmd(["cat", "/read-bytes"]);
    expect((await runImage(image)).stdout.trim()).toBe("0");
  });

  it("runs RUN steps under the default seccomp profile, with empty inheritable capabilities", async () => {
    const image = Image.fromRootfs(busyboxRootfs()).run("grep -E '^(Seccomp|CapInh|CapAmb):' /proc/self/status > /status").cmd(["cat", "/status"]);
    expect((await runImage(image)).stdout).toMatch(/CapInh:\s+0+\nCapAmb:\s+0+\nSeccomp:\s+2\n/);
  });
});

/** Whether this user may open /dev/net/tun (udev's rules make it 0666; hosts without udev keep 0600). */
function tunOpen(): boolean {
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** slirp4netns and pasta processes this test process started and did not end. */
function ownSlirps(): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        return /\((slirp4netns|pasta|passt)/.test(stat) && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid && !/\) Z/.test(stat);
      } catch {
        return false;
      }
    });
}

describe(`build RUN networking`, () => {
  afterEach(() => expect(ownSlirps()).toEqual([]));
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("cannot reach a service bound to the host's 127.0.0.1 from a RUN step, but can with RUN --network=host", async () => {
    server = createServer((socket) => socket.end("host-secret\n"));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const probe = `(nc -w 2 127.0.0.1 ${port} </dev/null; nc -w 2 10.0.2.2 ${port} </dev/null) > /reached 2>/dev/null; true`;
    const isolated = Image.fromRootfs(busyboxRootfs()).run(probe).cmd(["cat", "/reached"]);
    expect((await runImage(isolated)).stdout).toBe("");
    const host = Image.fromRootfs(busyboxRootfs()).run(probe, { network: "host" }).cmd(["cat", "/reached"]);
    expect((await runImage(host)).stdout).toBe("host-secret\n");
  });

  it("gives RUN steps pasta where slirp4netns is not installed (rootless: where /dev/net/tun is open to the user)", async () => {
    // A PATH with pasta and what starting it takes, and no slirp4netns: what a host with only passt has.
    const bin = mkdtempSync(join(tmpdir(), "bento-only-pasta-"));
    for (const tool of ["pasta", "setpriv", "mkfifo"]) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const image = Image.fromRootfs(busyboxRootfs()).run("ip -o -4 addr show tap0 | grep -o 'inet [0-9.]*' > /addr; cat /etc/resolv.conf >> /addr").cmd(["cat", "/addr"]);
      const { stdout } = await runImage(image);
      if (isRoot || tunOpen()) expect(stdout).toBe("inet 10.0.2.100\nnameserver 10.0.2.3\n");
      else expect(stdout).not.toContain("inet");
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true });
    }
  });

  it("gives a RUN step outbound access through its own interface (rootless: where /dev/net/tun is open to the user)", async () => {
    const image = Image.fromRootfs(busyboxRootfs()).run("ip -o -4 addr show tap0 | grep -o 'inet [0-9.]*' > /addr; ip route | grep -c default >> /addr; cat /etc/resolv.conf >> /addr").cmd(["cat", "/addr"]);
    const { stdout } = await runImage(image);
    // slirp4netns needs the tun device; a user it is closed to gets a step with only its loopback.
    if (isRoot || tunOpen()) expect(stdout).toBe("inet 10.0.2.100\n1\nnameserver 10.0.2.3\n");
    else expect(stdout).toMatch(/^0\n/);
  });
});
