import { isRoot, testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync, lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { Container, Image, Volume, type ContainerOptions, type RunningContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { tarOf } from "../store/helpers.js";
import { idMapping } from "../../../src/runtime/user-namespace.js";

const made: string[] = [];
afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

async function start(script: string, options: ContainerOptions = {}, image = Image.fromRootfs(busyboxRootfs())): Promise<RunningContainer> {
  const running = await new Container(image, { command: ["sh", "-c", script], ...options }).start();
  made.push(running.id);
  return running;
}

async function run(script: string, options: ContainerOptions = {}, image?: Image) {
  const running = await start(script, options, image);
  const exit = await running.wait();
  const out = await running.logs();
  await (await running.stop()).remove();
  return { ...exit, out };
}

/** A tree with owners, modes, a symlink and nested dirs, for round trips. */
function sampleTree(): string {
  const dir = mkdtempSync(join(testRoot, "tree-"));
  mkdirSync(join(dir, "a/b"), { recursive: true });
  writeFileSync(join(dir, "a/b/data.bin"), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(dir, "script.sh"), "#!/bin/sh\necho hi\n", { mode: 0o750 });
  // Rootless, a user cannot give files away: the tree is all theirs (container root's).
  if (isRoot) chownSync(join(dir, "script.sh"), 1000, 2000);
  symlinkSync("a/b/data.bin", join(dir, "link"));
  return dir;
}

function describeTree(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const p = join(dir, rel, name);
    const st = lstatSync(p);
    const kind = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "f";
    out.push(`${join(rel, name)} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? readFileSync(p).toString("hex") : ""}`);
    if (st.isDirectory()) out.push(...describeTree(dir, join(rel, name)));
  }
  return out;
}

/** The store's container directories (none before this file's first start made the directory). */
function containerDirs(): string[] {
  const dir = join(process.env.BENTO_HOME!, "containers");
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe(`volumes and mounts`, () => {
  it("keeps a named volume's data after its container is removed", async () => {
    const volume = await new Volume(`rows-${process.pid}`).create();
    expect((await run("for i in 1 2 3; do echo row$i >> /data/rows; done", { mounts: [{ volume: volume.name, target: "/data" }] })).exitCode).toBe(0);
    expect((await run("cat /data/rows", { mounts: [`${volume.name}:/data:ro`] })).out).toBe("row1\nrow2\nrow3\n");
    await volume.remove();
    expect(await volume.inspect()).toBeUndefined();
  });

  it("exports and imports a volume with identical content, owners and modes", async () => {
    const volume = await new Volume(`exp-${process.pid}`).create();
    cpSync(sampleTree(), volume.path, { recursive: true, verbatimSymlinks: true });
    if (isRoot) chownSync(join(volume.path, "script.sh"), 1000, 2000);
    const archive = join(testRoot, "vol.tar");
    await volume.export(archive);
    const copy = await Volume.import(archive, `imp-${process.pid}`);
    expect(describeTree(copy.path)).toEqual(describeTree(volume.path));
    await expect(Volume.import(archive, copy.name)).rejects.toThrow(/already exists/);
    await volume.remove();
    await copy.remove();
  });

  // Rootless, a user cannot own files as 1000 on the host: the owners come from inside the user
  // namespace, as the subordinate ids that are 1000 and 2000 in a container.
  it("imports a volume whose archive names other owners, and a container sees those owners", async () => {
    const archive = join(testRoot, `owners-${process.pid}.tar`);
    writeFileSync(
      archive,
      tarOf([
        { path: "app/", type: "dir", mode: 0o750, uid: 1000, gid: 2000 },
        { path: "app/secret", body: "s\n", mode: 0o4640, uid: 1000, gid: 2000 },
        { path: "mine", body: "m\n" },
      ]),
    );
    if (!isRoot && idMapping().kind === "single") {
      // Without a subordinate range only root's exists: refused with the fix, nothing left.
      await expect(Volume.import(archive, `owners-${process.pid}`)).rejects.toThrow(/no subordinate id range in \/etc\/subuid/);
      expect(existsSync(new Volume(`owners-${process.pid}`).path)).toBe(false);
      return;
    }
    const volume = await Volume.import(archive, `owners-${process.pid}`);
    const { out } = await run("stat -c '%n %a %u:%g' /data/app /data/app/secret /data/mine", { mounts: [{ volume: volume.name, target: "/data" }] });
    expect(out).toBe("/data/app 750 1000:2000\n/data/app/secret 4640 1000:2000\n/data/mine 644 0:0\n");
    await volume.remove();
  });

  it("round-trips a volume holding an absolute symlink, a dangling one and a hardlink through export and import", async () => {
    const volume = await new Volume(`abs-${process.pid}`).create();
    await run("ln -s /etc/passwd /data/passwd-link && ln -s /nowhere/at/all /data/dangling && echo x > /data/f && ln /data/f /data/hard", { mounts: [{ volume: volume.name, target: "/data" }] });
    const archive = join(testRoot, "abs-vol.tar");
    await volume.export(archive);
    const copy = await Volume.import(archive, `abs-imp-${process.pid}`);
    expect(describeTree(copy.path)).toEqual(describeTree(volume.path));
    expect(readlinkSync(join(copy.path, "passwd-link"))).toBe("/etc/passwd");
    expect(readlinkSync(join(copy.path, "dangling"))).toBe("/nowhere/at/all");
    expect(statSync(join(copy.path, "hard")).ino).toBe(statSync(join(copy.path, "f")).ino);
    // Inside a container the link resolves in the container, not on the host.
    expect((await run("cat /data/passwd-link | head -1", { mounts: [{ volume: copy.name, target: "/data" }] })).out).toBe("root:x:0:0:root:/root:/bin/sh\n");
    await volume.remove();
    await copy.remove();
  });

  it("refuses to import an archive with an entry leaving the volume, and creates no volume", async () => {
    const archive = join(testRoot, "evil-vol.tar");
    writeFileSync(archive, tarOf([{ path: "../../escaped", body: "x" }]));
    const name = `evil-${process.pid}`;
    await expect(Volume.import(archive, name)).rejects.toThrow(/import .*evil-vol.tar into volume evil-\d+: .*entry "\.\.\/\.\.\/escaped" has a "\.\." component/);
    expect(await new Volume(name).inspect()).toBeUndefined();
  });

  it("refuses to remove a volume a container uses, running or stopped", async () => {
    const volume = await new Volume(`busy-${process.pid}`).create();
    const running = await start("sleep 30", { name: `user-of-${process.pid}`, mounts: [{ volume: volume.name, target: "/v" }] });
    await expect(volume.remove()).rejects.toThrow(new RegExp(`used by container user-of-${process.pid}; remove it first`));
    const stopped = await running.stop({ timeoutMs: 1000 });
    await expect(volume.remove()).rejects.toMatchObject({ code: "ERR_VOLUME_IN_USE" });
    await stopped.remove();
    await volume.remove();
  });

  it("makes read-only mounts refuse writes", async () => {
    const dir = mkdtempSync(join(testRoot, "ro-"));
    const r = await run("echo x > /ro/file 2>&1; echo y > /vol/file 2>&1; echo done", {
      mounts: [
        { bind: dir, target: "/ro", readonly: true },
        { volume: `ro-${process.pid}`, target: "/vol", readonly: true },
      ],
    });
    expect(r.out.match(/Read-only file system/g)).toHaveLength(2);
    expect(readdirSync(dir)).toEqual([]);
    await new Volume(`ro-${process.pid}`).remove();
  });

  it("shares bind mounts both ways while the container runs", async () => {
    const dir = mkdtempSync(join(testRoot, "bind-"));
    writeFileSync(join(dir, "from-host"), "host\n");
    const running = await start("sleep 30", { mounts: [`${dir}:/shared`] });
    expect((await running.exec(["cat", "/shared/from-host"])).stdout).toBe("host\n");
    await running.exec(["sh", "-c", "echo container > /shared/from-container"]);
    expect(readFileSync(join(dir, "from-container"), "utf8")).toBe("container\n");
    writeFileSync(join(dir, "later"), "later\n");
    expect((await running.exec(["cat", "/shared/later"])).stdout).toBe("later\n");
    await (await running.stop({ timeoutMs: 1000 })).remove();
    const file = join(dir, "single");
    writeFileSync(file, "one file\n");
    expect((await run("cat /etc/single.conf", { mounts: [{ bind: file, target: "/etc/single.conf", readonly: true }] })).out).toBe("one file\n");
  });

  it("starts tmpfs mounts empty on each start", async () => {
    const running = await start("ls /scratch | wc -l; echo x > /scratch/f; sleep 30", { mounts: [{ tmpfs: "/scratch", sizeBytes: 1 << 20 }] });
    await new Promise((r) => setTimeout(r, 100));
    await running.restart({ timeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = await running.stop({ timeoutMs: 1000 });
    expect((await stopped.logs()).split("\n").filter(Boolean)).toEqual(["0", "0"]);
    await stopped.remove();
  });

  it("gives an image's VOLUME an anonymous volume filled from the image, removed with the container", async () => {
    const rootfs = mkdtempSync(join(testRoot, "rootfs-"));
    cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(rootfs, "seed"));
    writeFileSync(join(rootfs, "seed/initial"), "from the image\n");
    const image = Image.fromRootfs(rootfs).volume("/seed");
    const running = await start("cat /seed/initial; echo more > /seed/added; sleep 30", {}, image);
    await new Promise((r) => setTimeout(r, 100));
    const volumes = (await Volume.list()).filter((v) => v.anonymous);
    expect(volumes.length).toBeGreaterThanOrEqual(1);
    const stopped = await running.stop({ timeoutMs: 1000 });
    expect(await stopped.logs()).toBe("from the image\n");
    await stopped.remove();
    for (const v of volumes) expect(existsSync(new Volume(v.name).path)).toBe(false);
    expect(readdirSync(join(rootfs, "seed"))).toEqual(["initial"]);
    // A named volume on a non-empty image path is filled the first time only.
    const named = `seeded-${process.pid}`;
    expect((await run("cat /seed/initial", { mounts: [{ volume: named, target: "/seed" }] }, image)).out).toBe("from the image\n");
    await new Volume(named).remove();
  });

  it("refuses a mount target that an image symlink leads out of the root", async () => {
    const rootfs = mkdtempSync(join(testRoot, "evil-"));
    cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    symlinkSync("../../../../../../../../tmp/bento-escape", join(rootfs, "escape"));
    const before = new Set(containerDirs());
    const error = await new Container(Image.fromRootfs(rootfs), { command: ["true"], mounts: [{ tmpfs: "/escape/x" }] }).start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_STARTUP", cause: { code: "EXDEV", op: "check that /escape/x stays inside the root filesystem" } });
    expect(existsSync("/tmp/bento-escape")).toBe(false);
    expect(containerDirs().filter((d) => !before.has(d))).toEqual([]);
  });

  it("names the failing setup step every time, also when starts race each other", async () => {
    // Init fails its mount check before it reads the shim's "joined" byte; the shim then got
    // ECONNRESET ahead of init's error report, took it for the end and said only that the helper
    // exited (about one start in ten on a loaded machine). Many starts at once make that order likely.
    const rootfs = mkdtempSync(join(testRoot, "evil-many-"));
    cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    symlinkSync("../../../../../../../../tmp/bento-escape", join(rootfs, "escape"));
    const before = new Set(containerDirs());
    const starts = Array.from({ length: 48 }, () => new Container(Image.fromRootfs(rootfs), { command: ["true"], mounts: [{ tmpfs: "/escape/x" }] }).start().catch((e: unknown) => e));
    const causes = (await Promise.all(starts)).map((e) => `${(e as { cause?: { code?: string } }).cause?.code}: ${(e as Error).message}`);
    expect(causes.filter((c) => !c.startsWith("EXDEV: "))).toEqual([]);
    expect(existsSync("/tmp/bento-escape")).toBe(false);
    expect(containerDirs().filter((d) => !before.has(d))).toEqual([]);
  });

  it("copies into a stopped container's directory that replaced the image's (an opaque directory)", async () => {
    const running = await start("rm -rf /home && mkdir /home");
    expect((await running.wait()).exitCode).toBe(0);
    const stopped = await running.stop();
    const dir = mkdtempSync(join(testRoot, "app-"));
    writeFileSync(join(dir, "f"), "new\n");
    // The image's /home/app is gone in the container: the copy becomes /home/app, not /home/app/<dir>.
    await stopped.copyTo(dir, "/home/app");
    const out = join(testRoot, `opaque-${process.pid}`);
    await stopped.copyFrom("/home", out);
    expect(readdirSync(out)).toEqual(["app"]);
    expect(readdirSync(join(out, "app"))).toEqual(["f"]);
    await stopped.remove();
  });

  it("round-trips a directory tree with copyTo and copyFrom, running and stopped", async () => {
    const tree = sampleTree();
    const running = await start("sleep 30");
    await running.copyTo(tree, "/restored");
    await running.copyTo(Buffer.from("inline\n"), "/restored/inline.txt");
    expect((await running.exec(["cat", "/restored/inline.txt"])).stdout).toBe("inline\n");
    const outRunning = join(testRoot, `out-running-${process.pid}`);
    await running.copyFrom("/restored", outRunning);
    const stopped = await running.stop({ timeoutMs: 1000 });
    const outStopped = join(testRoot, `out-stopped-${process.pid}`);
    await stopped.copyFrom("/restored", outStopped);
    await stopped.copyTo(tree, "/again");
    // Rootless, files copied out are the user's, as the tree copied in was.
    const copiedOwner = isRoot ? "0:0" : `${process.getuid!()}:${process.getgid!()}`;
    const expected = [...describeTree(tree), `inline.txt f 644 ${copiedOwner} ${Buffer.from("inline\n").toString("hex")}`].sort();
    expect(describeTree(outRunning).sort()).toEqual(expected);
    expect(describeTree(outStopped).sort()).toEqual(expected);
    const again = await stopped.start();
    expect((await again.exec(["sh", "-c", "stat -c '%a %u:%g' /again/script.sh; cat /again/link | od -An -tx1"])).stdout).toMatch(isRoot ? /^750 1000:2000\n\s*00 01 02 ff\n$/ : /^750 0:0\n\s*00 01 02 ff\n$/);
    await (await again.stop({ timeoutMs: 1000 })).remove();
    expect(statSync(tree).isDirectory()).toBe(true);
  });
});
