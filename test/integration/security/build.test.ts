import { isRoot, testRoot } from "../setup-env.js";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LayeredView } from "../../../src/builder/layered-view.js";
import { Image, Store } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, makeContext, runImage } from "../builder/helpers.js";
import { tarOf } from "../store/helpers.js";
import { tunDeviceOpen } from "../../../src/runtime/host-devices.js";
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

  it("build({ network: \"host\" }) gives every RUN step that names no network the host's (its 127.0.0.1 reached), a step's own --network=none wins, and a default build does not reuse those steps", async () => {
    server = createServer((socket) => socket.end("host-secret\n"));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const probe = (file: string) => `(nc -w 2 127.0.0.1 ${port} </dev/null) > ${file} 2>/dev/null; true`;
    const image = Image.fromRootfs(busyboxRootfs()).run(probe("/a")).run(probe("/b"), { network: "none" }).cmd(["sh", "-c", "echo a=$(cat /a) b=$(cat /b)"]);
    const tag = `build-network-host-${process.pid}:1`;
    await image.build({ tag, network: "host" });
    try {
      expect((await runImage(Image.from(tag))).stdout).toBe("a=host-secret b=\n");
    } finally {
      await Store.default().removeImage(tag);
    }
    expect((await runImage(image)).stdout).toBe("a= b=\n");
    for (const bad of ["bridge", "", 1]) {
      await expect(image.build({ network: bad as never }), String(bad)).rejects.toThrow(/build\.network.*use "default" \(own namespace, outbound access\), "host" or "none"/);
    }
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
      if (isRoot || tunDeviceOpen()) expect(stdout).toBe("inet 10.0.2.100\nnameserver 10.0.2.3\n");
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
    if (isRoot || tunDeviceOpen()) expect(stdout).toBe("inet 10.0.2.100\n1\nnameserver 10.0.2.3\n");
    else expect(stdout).toMatch(/^0\n/);
  });
});

describe(`build COPY and ADD destinations resolved inside the image`, () => {
  const store = Store.open(join(testRoot, "store-security-build"));
  const hostDir = join(testRoot, "build-host-target");
  const base = Image.fromRootfs(busyboxRootfs()).run(`ln -s / /e && ln -s ${hostDir} /h`);
  const built = async (image: Image, context: string) => new LayeredView(await store.lowerDirs((await image.build({ store, context })).id));
  const read = (view: LayeredView, path: string) => readFileSync(view.lookup(view.resolve(path, true))?.hostPath ?? "/nonexistent-in-image", "utf8");
  const hostFiles = () => readdirSync(hostDir);

  it("writes COPY x /e/etc/ into the image's /etc when the image made /e a symlink to /, and COPY to a symlink naming a host directory into the image", async () => {
    rmSync(hostDir, { recursive: true, force: true });
    mkdirSync(hostDir, { recursive: true });
    const context = makeContext({ "planted.txt": "into the image\n" });
    const view = await built(base.copy("planted.txt", "/e/etc/").copy("planted.txt", "/h/"), context);
    expect(read(view, "etc/planted.txt")).toBe("into the image\n");
    expect(read(view, `${hostDir.slice(1)}/planted.txt`)).toBe("into the image\n");
    expect(existsSync("/etc/planted.txt")).toBe(false);
    expect(hostFiles()).toEqual([]);
  });

  it("extracts ADD x.tar /e/etc/ into the image when /e is a symlink to /, and an archive's own absolute symlink parent stays in the image", async () => {
    rmSync(hostDir, { recursive: true, force: true });
    mkdirSync(hostDir, { recursive: true });
    const context = makeContext({});
    writeFileSync(join(context, "a.tar"), tarOf([{ path: "added.txt", body: "added\n" }]));
    writeFileSync(
      join(context, "b.tar"),
      tarOf([
        { path: "l", type: "symlink", linkpath: hostDir },
        { path: "l/through-link.txt", body: "x\n" },
      ]),
    );
    const view = await built(base.add("a.tar", "/e/etc/").add("b.tar", "/h/"), context);
    expect(read(view, "etc/added.txt")).toBe("added\n");
    expect(existsSync("/etc/added.txt")).toBe(false);
    expect(hostFiles()).toEqual([]);
  });

  it("never writes to the host through a symlink an earlier source of the same COPY made (COPY a b /dst/, a/e -> host dir, b/e/x)", async () => {
    rmSync(hostDir, { recursive: true, force: true });
    mkdirSync(hostDir, { recursive: true });
    const context = makeContext({ "a/e": { symlink: hostDir }, "b/e/x": "through the link\n" });
    const view = await built(Image.fromRootfs(busyboxRootfs()).copy(["a", "b"], "/dst/"), context);
    expect(hostFiles()).toEqual([]);
    // As docker: the link is kept and b's files go where it points, inside the image.
    expect(readlinkSync(view.lookup("dst/e")!.hostPath)).toBe(hostDir);
    expect(read(view, "dst/e/x")).toBe("through the link\n");
  });
  it("never writes to the host through a symlink an archive of the same ADD extracted (ADD a.tar b /dst/, a.tar: e -> host file and d -> host dir; b: e, d/x)", async () => {
    rmSync(hostDir, { recursive: true, force: true });
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, "victim"), "host file\n");
    const context = makeContext({ "b/e": "over the link\n", "b/d/x": "into the dir\n" });
    writeFileSync(
      join(context, "a.tar"),
      tarOf([
        { path: "e", type: "symlink", linkpath: join(hostDir, "victim") },
        { path: "d", type: "symlink", linkpath: hostDir },
      ]),
    );
    const view = await built(Image.fromRootfs(busyboxRootfs()).add(["a.tar", "b"], "/dst/"), context);
    expect(readFileSync(join(hostDir, "victim"), "utf8")).toBe("host file\n");
    expect(hostFiles()).toEqual(["victim"]);
    // b's file replaces the link; its directory's files go where the link points, inside the image.
    expect(read(view, "dst/e")).toBe("over the link\n");
    expect(read(view, `${hostDir.slice(1)}/x`)).toBe("into the dir\n");
  });
  it("never sets the times of a host directory through a symlink a later source of the same ADD put over a copied directory (ADD b a.tar /dst/, b/sub/deeper/, a.tar: sub -> host dir)", async () => {
    rmSync(hostDir, { recursive: true, force: true });
    mkdirSync(join(hostDir, "deeper"), { recursive: true });
    utimesSync(join(hostDir, "deeper"), 1000, 1000);
    const context = makeContext({ "b/sub/deeper/f": "x\n" });
    writeFileSync(join(context, "a.tar"), tarOf([{ path: "sub", type: "symlink", linkpath: hostDir }]));
    const view = await built(Image.fromRootfs(busyboxRootfs()).add(["b", "a.tar"], "/dst/"), context);
    expect(statSync(join(hostDir, "deeper")).mtimeMs).toBe(1_000_000);
    expect(hostFiles()).toEqual(["deeper"]);
    expect(readlinkSync(view.lookup("dst/sub")!.hostPath)).toBe(hostDir);
  });
});
