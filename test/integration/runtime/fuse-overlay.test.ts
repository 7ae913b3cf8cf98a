import "./fuse-env.js";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Container, HostUnsupportedError, Image, Store, type RunningContainer } from "../../../src/index.js";
import { readConfig } from "../../../src/config.js";
import { doctor } from "../../../src/runtime/doctor.js";
import { fuseDeviceOpen, fuseOverlayfsPath, overlayMount } from "../../../src/runtime/overlay-mode.js";
import { LayeredView } from "../../../src/builder/layered-view.js";
import { layerTarFromDir } from "../../../src/store/layer-from-dir.js";
import { nativeFs } from "../../../src/store/native-fs.js";
import { OPAQUE_XATTRS } from "../../../src/store/overlay-markers.js";
import { isRoot } from "../setup-env.js";
import { expectRootlessLimitsError } from "../rootless.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { waitUntil } from "../cli/helpers.js";
import { leftovers, processesOf } from "../leaks.js";

const repo = join(import.meta.dirname, "../../..");
const made: string[] = [];
afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

// Where fuse-overlayfs cannot run for this user, every start must refuse with the fix instead.
const usable = fuseOverlayfsPath() !== undefined && fuseDeviceOpen();
const refusal = fuseOverlayfsPath() === undefined ? /apt-get install fuse-overlayfs/ : /chmod 0666 \/dev\/fuse/;

/** The SIGKILL teardown test's child: starts `count` containers, prints their ids, waits. */
function nodeChild(count: string, ...more: string[]) {
  const child = spawn(process.execPath, ["--import", join(repo, "node_modules/tsx/dist/esm/index.mjs"), join(repo, "test/fixtures/start-containers.ts"), count, ...more], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
  onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGTERM")));
  return child;
}

async function start(image: Image, command: string[]): Promise<RunningContainer> {
  const running = await new Container(image, { command }).start();
  made.push(running.id);
  return running;
}

describe("BENTO_OVERLAY=fuse-overlayfs", () => {
  it("runs a container on fuse-overlayfs: writes, exec, stop, start again, remove", async () => {
    if (!usable) {
      await expect(new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"] }).start()).rejects.toThrow(refusal);
      return;
    }
    const running = await start(Image.fromRootfs(busyboxRootfs()), ["sh", "-c", "[ -f /written ] || echo written > /written; rm -f /bin/vi; exec sleep 1000"]);
    expect((await running.exec(["sh", "-c", "while [ ! -f /written ]; do sleep 0.05; done; cat /written"])).stdout).toBe("written\n");
    const mounts = await running.exec(["cat", "/proc/mounts"]);
    expect(mounts.stdout.split("\n")[0]).toMatch(/^fuse-overlayfs \/ fuse\.fuse-overlayfs /);
    expect((await running.exec(["sh", "-c", "ls /bin/vi 2>&1; echo more >> /written; cat /written"])).stdout).toBe("ls: /bin/vi: No such file or directory\nwritten\nmore\n");
    // commit reads the upper dir fuse-overlayfs wrote: the deletion becomes the image's whiteout.
    const committed = await running.commit();
    const fromCommit = await start(Image.from(committed.id), ["sh", "-c", "cat /written; ls /bin/vi 2>&1"]);
    await fromCommit.wait();
    expect(await fromCommit.logs()).toBe("written\nmore\nls: /bin/vi: No such file or directory\n");
    await (await fromCommit.stop()).remove();
    const stopped = await running.stop({ timeoutMs: 500 });
    const again = await stopped.start();
    expect((await again.exec(["sh", "-c", "cat /written; ls /bin/vi 2>&1"])).stdout).toBe("written\nmore\nls: /bin/vi: No such file or directory\n");
    await (await again.stop({ timeoutMs: 500 })).remove();
  });

  it("builds RUN steps that delete a lower file and replace a lower directory, and runs the image", async () => {
    const image = Image.fromRootfs(busyboxRootfs())
      .run("mkdir -p /srv/old && echo old > /srv/old/a && echo keep > /srv/keep")
      .run("rm /srv/keep && rm -rf /srv/old && mkdir /srv/old && echo new > /srv/old/b")
      .cmd(["sh", "-c", "ls -A /srv /srv/old; cat /srv/old/b"]);
    if (!usable) {
      await expect(image.build({ noCache: true })).rejects.toThrow(refusal);
      return;
    }
    const built = await image.build({ noCache: true });
    const running = await start(Image.from(built.id), ["sh", "-c", "ls -A /srv /srv/old; cat /srv/old/b"]);
    await running.wait();
    // The whiteout hides /srv/keep, the opaque directory hides a, and no .wh. marker shows.
    expect(await running.logs()).toBe("/srv:\nold\n\n/srv/old:\nb\nnew\n");
    // The step's layer is in the store's form, which the kernel's overlay reads too: a char 0/0
    // whiteout for /srv/keep, and /srv/old with no fuse-overlayfs marker file in it.
    const last = built.layers.at(-1)!;
    const layerDir = await Store.default().layerDir(last.diffId, last);
    expect(execFileSync("find", [".", "-mindepth", "1", "-printf", "%p %y\n"], { cwd: layerDir, encoding: "utf8" }).split("\n").filter(Boolean).sort()).toEqual(["./srv d", "./srv/keep c", "./srv/old d", "./srv/old/b f"]);
    await (await running.stop()).remove();
  });

  it.each([["own PID namespaces"], ["the host's PID namespace", "host-pid"]])("leaves no fuse-overlayfs process and no mount after a SIGKILL of the runner: %s", async (_, ...more) => {
    if (!usable) return void (await expect(new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"] }).start()).rejects.toThrow(refusal));
    // In a PID namespace its init does not head, only init's death signal ends a server.
    const child = nodeChild("2", ...more);
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const ids = (JSON.parse(line.toString()) as { id: string }[]).map((s) => s.id);
    expect(processesOf(ids).filter((p) => p.includes("fuse-overlayfs"))).toHaveLength(2);
    child.kill("SIGKILL");
    await once(child, "exit");
    const servers = () => processesOf(ids).filter((p) => p.includes("fuse-overlayfs"));
    await waitUntil(() => servers().length === 0, 2000);
    expect(servers()).toEqual([]);
    if (more.includes("host-pid")) {
      // A payload in the host's PID namespace outlives its killed init (the next start's sweep
      // kills its cgroup as root): older than fuse-overlayfs and not this test's subject.
      for (const p of processesOf(ids)) process.kill(Number(p.split(" ")[0]), "SIGKILL");
    }
    expect(await waitUntil(() => processesOf(ids).length === 0, 2000)).toBe(true);
    // The next process's start sweeps the directories (and cgroups) the killed one left.
    const next = nodeChild("1");
    const [nextLine] = (await once(next.stdout!, "data")) as [Buffer];
    const nextIds = (JSON.parse(nextLine.toString()) as { id: string }[]).map((s) => s.id);
    expect(leftovers(ids)).toEqual([]);
    next.kill("SIGTERM");
    await once(next, "exit");
    expect(await waitUntil(() => leftovers(nextIds).length === 0, 2000)).toBe(true);
  });

  it("serves a container in another's PID namespace and one without init, and leaves no server of either", async () => {
    if (!usable) return void (await expect(new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"] }).start()).rejects.toThrow(refusal));
    const host = await start(Image.fromRootfs(busyboxRootfs()), ["sleep", "1000"]);
    const guest = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sh", "-c", "echo guest > /g; exec sleep 1000"], pid: { container: host } }).start();
    made.push(guest.id);
    expect((await guest.exec(["sh", "-c", "while [ ! -f /g ]; do sleep 0.05; done; cat /g"])).stdout).toBe("guest\n");
    // Its server runs in the shared namespace; stopping the guest ends it, the host's keeps running.
    expect(processesOf([guest.id]).filter((p) => p.includes("fuse-overlayfs"))).toHaveLength(1);
    await (await guest.stop({ timeoutMs: 500 })).remove();
    expect(await waitUntil(() => processesOf([guest.id]).length === 0, 2000)).toBe(true);
    expect((await host.exec(["ls", "/bin/sh"])).stdout).toBe("/bin/sh\n");
    await (await host.stop({ timeoutMs: 500 })).remove();
    const bare = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sh", "-c", "echo bare > /b; cat /b"], init: false }).start();
    made.push(bare.id);
    expect(await bare.wait()).toMatchObject({ exitCode: 0 });
    expect(await bare.logs()).toBe("bare\n");
    await (await bare.stop()).remove();
  });

  it("auto falls back to fuse-overlayfs only rootless, and only where it can run", () => {
    const program = fuseOverlayfsPath();
    expect(overlayMount("auto", false)).toEqual({ kind: "kernel" });
    expect(overlayMount("kernel", true)).toEqual({ kind: "kernel" });
    if (usable) expect(overlayMount("auto", true)).toEqual({ kind: "kernel-else-fuse", program });
    else expect(overlayMount("auto", true)).toEqual({ kind: "kernel", fallbackFix: expect.stringMatching(refusal) });
  });

  it("counts the server in the container's cgroups, as init (on a hybrid host: its v1 groups too)", async () => {
    const starting = new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sleep", "1000"], resources: { memory: "64m", pids: 50 } }).start();
    // The overlay is decided before the limits are checked.
    if (!usable) return void (await expect(starting).rejects.toThrow(refusal));
    if (!isRoot) return expectRootlessLimitsError(starting);
    const running = await starting;
    made.push(running.id);
    const groups = await running.exec(["sh", "-c", "cat /proc/1/cgroup; echo --; cat /proc/2/cgroup; cat /proc/2/comm"]);
    const [init, server] = groups.stdout.split("--\n") as [string, string];
    expect(server).toBe(`${init}fuse-overlayfs\n`);
    expect((await running.stats()).pids).toBe(3); // init, fuse-overlayfs, sleep
    await (await running.stop({ timeoutMs: 500 })).remove();
  });

  it("doctor reports the overlay in use, or what is missing and the fix", async () => {
    const check = (await doctor()).checks.find((c) => c.name === "overlay")!;
    if (usable) expect(check).toEqual({ name: "overlay", status: "ok", detail: `BENTO_OVERLAY=fuse-overlayfs: fuse-overlayfs (${fuseOverlayfsPath()}), started by each container's init, dying with it` });
    else expect(check).toMatchObject({ status: "missing", fix: expect.stringMatching(refusal) });
  });

  it("refuses a BENTO_OVERLAY it does not know, and a forced fuse-overlayfs that is not installed, with the fix", async () => {
    expect(() => readConfig({ BENTO_OVERLAY: "bogus" })).toThrow('BENTO_OVERLAY: "bogus" is not an overlay mode; use auto, kernel or fuse-overlayfs, or unset it');
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    onTestFinished(() => void (process.env.PATH = path));
    // "auto" without fuse-overlayfs keeps the kernel's overlay, naming both fixes should it refuse.
    expect(overlayMount("auto", true)).toEqual({ kind: "kernel", fallbackFix: expect.stringMatching(/use Linux 5\.11 or newer, or install fuse-overlayfs \(apt-get install fuse-overlayfs/) });
    expect(overlayMount("auto", false)).toEqual({ kind: "kernel" });
    const error = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"] }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostUnsupportedError);
    expect((error as Error).message).toMatch(/BENTO_OVERLAY=fuse-overlayfs, but fuse-overlayfs is not installed .*apt-get install fuse-overlayfs/);
  });
});

describe("fuse-overlayfs's markers in an upper dir", () => {
  // Where fuse-overlayfs may not make a char 0/0 device it writes `.wh.<name>` files; an opaque
  // directory gets `.wh..wh..opq` and, rootless, user.fuseoverlayfs.opaque (overlay-markers.ts).
  it("become the layer tar's whiteouts and opaque markers, once, and hide lower files in the build's view", async () => {
    const root = mkdtempSync(join(tmpdir(), "bento-fuse-markers-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const lower = join(root, "lower"),
      upper = join(root, "upper");
    for (const dir of [`${lower}/srv/old`, `${lower}/srv/plain`, `${upper}/srv/old`, `${upper}/srv/plain`]) mkdirSync(dir, { recursive: true });
    for (const file of ["srv/keep", "srv/old/a", "srv/plain/c"]) writeFileSync(join(lower, file), "lower\n");
    writeFileSync(join(upper, "srv/.wh.keep"), "");
    writeFileSync(join(upper, "srv/old/.wh..wh..opq"), "");
    writeFileSync(join(upper, "srv/old/b"), "new\n");
    nativeFs().lsetxattr(join(upper, "srv/old"), "user.fuseoverlayfs.opaque", Buffer.from("y"));
    nativeFs().lsetxattr(join(upper, "srv/plain"), "user.fuseoverlayfs.opaque", Buffer.from("y"));
    const chunks: Buffer[] = [];
    for await (const chunk of layerTarFromDir(upper, { opaqueXattrs: OPAQUE_XATTRS, keepXattr: () => true })) chunks.push(chunk);
    writeFileSync(join(root, "layer.tar"), Buffer.concat(chunks));
    const entries = execFileSync("tar", ["--xattrs", "-tvf", join(root, "layer.tar")], { encoding: "utf8" });
    expect(entries).not.toContain("fuseoverlayfs");
    expect(
      entries
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual(["srv/", "srv/.wh.keep", "srv/old/", "srv/old/.wh..wh..opq", "srv/old/b", "srv/plain/", "srv/plain/.wh..wh..opq"]);
    const view = new LayeredView([upper, lower]);
    expect(view.readdir("srv")).toEqual(["old", "plain"]);
    expect(view.lookup("srv/keep")).toBeUndefined();
    expect(view.readdir("srv/old")).toEqual(["b"]);
    expect(view.readdir("srv/plain")).toEqual([]);
  });
});
