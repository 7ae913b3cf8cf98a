/**
 * Layer application: whiteouts to overlay form, file types, ownership, modes, xattrs, times,
 * confinement to the layer root (containerd's pkg/archive TestBreakouts cases, refused rather than
 * clamped) and digest checks. Each test unpacks through the store, so a failure must leave no
 * temp dir and no layer dir behind.
 */
import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { containerOwnerOf } from "../../../src/runtime/rootless-owner.js";
import { idMapping } from "../../../src/runtime/user-namespace.js";
import { sha256 } from "../../../src/store/digest.js";
import { DigestMismatchError, InvalidArchiveError, UnsafeArchiveError } from "../../../src/store/errors.js";
import { nativeFs } from "../../../src/store/native-fs.js";
import type { Store } from "../../../src/registry/store.js";
import { MediaType, type LayerInfo } from "../../../src/store/types.js";
import { expectNoLeaks, isRoot, putLayer, tarOf, tempDir, tempStore, treeOf, type TestEntry } from "./helpers.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

function newStore(options: Parameters<typeof tempStore>[0] = {}): { store: Store; root: string } {
  const s = tempStore(options);
  cleanups.push(s.remove);
  return s;
}

async function unpack(store: Store, entries: TestEntry[]): Promise<{ dir: string; layer: LayerInfo }> {
  const layer = await putLayer(store, tarOf(entries));
  return { dir: await store.layerDir(layer.diffId, layer), layer };
}

/** Unpacking must fail with `errorClass`, leaving neither the layer dir nor a temp dir. */
async function expectRefused(entries: TestEntry[], errorClass: new (...args: never[]) => Error, message?: RegExp): Promise<void> {
  const { store, root } = newStore();
  const victim = tempDir("bento-victim-");
  cleanups.push(victim.remove);
  await fs.writeFile(join(victim.dir, "hello"), "untouched");
  const layer = await putLayer(store, tarOf(entries));
  const error = await store.layerDir(layer.diffId, layer).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(errorClass);
  if (message) expect((error as Error).message).toMatch(message);
  await expect(fs.lstat(join(root, "layers", layer.diffId.slice(7)))).rejects.toThrow(/ENOENT/);
  expect(await fs.readdir(victim.dir)).toEqual(["hello"]);
  expect(await fs.readFile(join(victim.dir, "hello"), "utf8")).toBe("untouched");
  await expectNoLeaks(root);
}

function xattr(path: string, name: string): string | undefined {
  return nativeFs().lgetxattr(path, name)?.toString("latin1");
}

describe("whiteouts become overlay form", () => {
  it("turns .wh.<name> into a char 0/0 device owned as the entry says, and never writes the .wh. file", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [{ path: "etc/", type: "dir" }, { path: "etc/.wh.passwd", uid: 1000, gid: 1001 }, { path: ".wh.gone" }]);
    for (const rel of ["etc/passwd", "gone"]) {
      const st = await fs.lstat(join(dir, rel));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(0);
      if (isRoot && rel === "etc/passwd") expect([st.uid, st.gid]).toEqual([1000, 1001]);
    }
    expect(Object.keys(await treeOf(dir)).filter((p) => p.includes(".wh."))).toEqual([]);
    await expectNoLeaks(root);
  });

  it("turns .wh..wh..opq into the opaque xattr on its directory, whatever the entry order", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [{ path: "a/", type: "dir" }, { path: "a/kept", body: "new" }, { path: "a/.wh..wh..opq" }, { path: "b/.wh..wh..opq" }]);
    const name = isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque";
    expect(xattr(join(dir, "a"), name)).toBe("y");
    expect(xattr(join(dir, "b"), name)).toBe("y");
    expect(await treeOf(dir)).toEqual({ a: { type: "dir" }, "a/kept": { type: "file", content: "new" }, b: { type: "dir" } });
    await expectNoLeaks(root);
  });

  it("makes a directory created over a whiteout in the same layer opaque", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [{ path: ".wh.data" }, { path: "data/", type: "dir" }, { path: "data/new", body: "x" }]);
    expect((await fs.lstat(join(dir, "data"))).isDirectory()).toBe(true);
    expect(xattr(join(dir, "data"), isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque")).toBe("y");
    await expectNoLeaks(root);
  });

  it("turns a whiteout into an opaque directory when a later entry of the layer goes under it", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [{ path: ".wh.data" }, { path: "data/sub/new", body: "x" }, { path: "plain/f", body: "y" }]);
    expect(xattr(join(dir, "data"), isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque")).toBe("y");
    expect(xattr(join(dir, "data/sub"), isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque")).toBeUndefined();
    expect(xattr(join(dir, "plain"), isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque")).toBeUndefined();
    expect(await fs.readFile(join(dir, "data/sub/new"), "utf8")).toBe("x");
    await expectNoLeaks(root);
  });

  it("skips AUFS metadata and refuses whiteouts that name no file", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [{ path: ".wh..wh.plnk/", type: "dir" }, { path: ".wh..wh.aufs" }, { path: "f", body: "1" }]);
    expect(Object.keys(await treeOf(dir))).toEqual(["f"]);
    await expectNoLeaks(root);
    // containerd TestBreakouts: WhiteoutRootParent, WhiteoutParent, WhiteoutRoot, WhiteoutCurrentDirectory.
    for (const path of [".wh...", "etc/.wh...", ".wh..", "etc/.wh.."]) {
      await expectRefused([{ path: "etc/", type: "dir" }, { path }], InvalidArchiveError, /invalid whiteout/);
    }
  });
});

describe("file types and metadata", () => {
  it("creates files, directories, symlinks, hardlinks and fifos", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [
      { path: "bin/", type: "dir" },
      { path: "bin/busybox", body: "#!elf", mode: 0o755 },
      { path: "bin/sh", type: "link", linkpath: "bin/busybox" },
      { path: "bin/ls", type: "symlink", linkpath: "/bin/busybox" },
      { path: "run/pipe", type: "fifo", mode: 0o600 },
      { path: "deep/er/file", body: "parents made" },
    ]);
    const a = await fs.lstat(join(dir, "bin/busybox"));
    const b = await fs.lstat(join(dir, "bin/sh"));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(await fs.readlink(join(dir, "bin/ls"))).toBe("/bin/busybox");
    expect((await fs.lstat(join(dir, "run/pipe"))).isFIFO()).toBe(true);
    expect((await fs.lstat(join(dir, "deep/er"))).mode & 0o777).toBe(0o755);
    expect(await fs.readFile(join(dir, "deep/er/file"), "utf8")).toBe("parents made");
    await expectNoLeaks(root);
  });

  it("creates device nodes and sets owners before modes, so setuid and setgid survive", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [
      { path: "dev/", type: "dir" },
      { path: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      { path: "dev/loop0", type: "block", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
      { path: "usr/bin/passwd", body: "elf", mode: 0o4755, uid: 0, gid: 0 },
      { path: "usr/bin/agent", body: "elf", mode: 0o6750, uid: 1234, gid: 5678 },
      { path: "tmp/", type: "dir", mode: 0o1777 },
      { path: "home/me/", type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
    ]);
    if (!isRoot) {
      // Rootless, mknod of a device is refused: devices are left out (as rootless podman leaves
      // them out). With a subordinate range, owners are set from inside the user namespace (the
      // set-id bits survive); without one, files are the user's (root's in a container).
      expect(existsSync(join(dir, "dev/null"))).toBe(false);
      expect((await fs.lstat(join(dir, "usr/bin/passwd"))).mode & 0o7777).toBe(0o4755);
      const own = await fs.lstat(join(dir, "usr/bin/agent"));
      const { uid, gid } = containerOwnerOf(own);
      expect([own.mode & 0o7777, uid, gid]).toEqual(idMapping().kind === "subordinate" ? [0o6750, 1234, 5678] : [0o6750, 0, 0]);
      expect((await fs.lstat(join(dir, "tmp"))).mode & 0o7777).toBe(0o1777);
      await expectNoLeaks(root);
      return;
    }
    const nul = await fs.lstat(join(dir, "dev/null"));
    expect(nul.isCharacterDevice()).toBe(true);
    expect(nul.rdev).toBe((1 << 8) | 3);
    expect(nul.mode & 0o7777).toBe(0o666);
    const loop = await fs.lstat(join(dir, "dev/loop0"));
    expect(loop.isBlockDevice()).toBe(true);
    expect(loop.gid).toBe(6);
    expect((await fs.lstat(join(dir, "usr/bin/passwd"))).mode & 0o7777).toBe(0o4755);
    const agent = await fs.lstat(join(dir, "usr/bin/agent"));
    expect([agent.mode & 0o7777, agent.uid, agent.gid]).toEqual([0o6750, 1234, 5678]);
    expect((await fs.lstat(join(dir, "tmp"))).mode & 0o7777).toBe(0o1777);
    const home = await fs.lstat(join(dir, "home/me"));
    expect([home.mode & 0o7777, home.uid, home.gid]).toEqual([0o700, 1000, 1000]);
    await expectNoLeaks(root);
  });

  it("restores PAX xattrs byte for byte, keeping overlay's own and SELinux labels out", async () => {
    const { store, root } = newStore();
    // vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (13): what ping carries.
    const capability = Buffer.alloc(20);
    capability.writeUInt32LE(0x02000001, 0);
    capability.writeUInt32LE(1 << 13, 4);
    const binary = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x3d, 0x20]);
    const { dir } = await unpack(store, [
      {
        path: "bin/ping",
        body: "elf",
        mode: 0o755,
        xattrs: [
          ["user.binary", binary],
          ["security.capability", capability],
          ["trusted.overlay.opaque", Buffer.from("y")],
          ["trusted.overlay.redirect", Buffer.from("/etc")],
          ["security.selinux", Buffer.from("system_u:object_r:bin_t:s0\0")],
        ],
      },
    ]);
    const file = join(dir, "bin/ping");
    expect(nativeFs().lgetxattr(file, "user.binary")).toEqual(binary);
    const names = nativeFs().llistxattr(file).sort();
    expect(names).toEqual(["security.capability", "user.binary"]);
    // Rootless, the namespace's root writes it, and the kernel stores it as revision 3 with that
    // root's host uid (this user's) as its root id: it holds only in this user namespace.
    const v3 = Buffer.alloc(24);
    v3.writeUInt32LE(0x03000001, 0);
    v3.writeUInt32LE(1 << 13, 4);
    v3.writeUInt32LE(process.getuid!(), 20);
    expect(nativeFs().lgetxattr(file, "security.capability")).toEqual(isRoot ? capability : v3);
    await expectNoLeaks(root);
  });

  it("sets times, directory times last, from the archive", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [
      { path: "./", type: "dir", mtime: 111_111 },
      { path: "d/", type: "dir", mtime: 222_222, mode: 0o555 },
      { path: "d/f", body: "x", mtime: 333_333 },
      { path: "d/l", type: "symlink", linkpath: "f", mtime: 444_444 },
    ]);
    expect(Math.round((await fs.lstat(dir)).mtimeMs / 1000)).toBe(111_111);
    const d = await fs.lstat(join(dir, "d"));
    expect(Math.round(d.mtimeMs / 1000)).toBe(222_222);
    expect(d.mode & 0o777).toBe(0o555);
    expect(Math.round((await fs.lstat(join(dir, "d/f"))).mtimeMs / 1000)).toBe(333_333);
    expect(Math.round((await fs.lstat(join(dir, "d/l"))).mtimeMs / 1000)).toBe(444_444);
    await expectNoLeaks(root);
  });

  it("replaces what a later entry overrides instead of writing through it", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [
      { path: "a", body: "shared" },
      { path: "b", type: "link", linkpath: "a" },
      { path: "a", body: "replaced" },
      { path: "dir/", type: "dir" },
      { path: "dir/child", body: "gone" },
      { path: "dir", body: "now a file" },
      { path: "link", type: "symlink", linkpath: "a" },
      { path: "link/", type: "dir" },
    ]);
    expect(await fs.readFile(join(dir, "b"), "utf8")).toBe("shared");
    expect(await fs.readFile(join(dir, "a"), "utf8")).toBe("replaced");
    expect(await fs.readFile(join(dir, "dir"), "utf8")).toBe("now a file");
    expect((await fs.lstat(join(dir, "link"))).isDirectory()).toBe(true);
    await expectNoLeaks(root);
  });

  it("unpacks as a rootless user would: user.overlay.opaque, no chown, no device nodes", async () => {
    const { store, root } = newStore({ privileged: false });
    const { dir } = await unpack(store, [{ path: "o/", type: "dir" }, { path: "o/.wh..wh..opq" }, { path: ".wh.x" }, { path: "dev/null", type: "char", devmajor: 1, devminor: 3 }, { path: "f", body: "1", uid: 4321, gid: 4321 }]);
    expect(xattr(join(dir, "o"), "user.overlay.opaque")).toBe("y");
    expect(xattr(join(dir, "o"), "trusted.overlay.opaque")).toBeUndefined();
    expect((await fs.lstat(join(dir, "x"))).isCharacterDevice()).toBe(true);
    await expect(fs.lstat(join(dir, "dev/null"))).rejects.toThrow(/ENOENT/);
    // No chown from Node: the owner comes from inside the user namespace, when there is a range.
    expect(containerOwnerOf(await fs.lstat(join(dir, "f"))).uid).toBe(!isRoot && idMapping().kind === "subordinate" ? 4321 : 0);
    await expectNoLeaks(root);
  });
});

describe("confinement to the layer root", () => {
  it("refuses absolute names", async () => {
    await expectRefused([{ path: "/etc/passwd", body: "x" }], UnsafeArchiveError, /absolute path/);
  });

  it("refuses .. components", async () => {
    await expectRefused([{ path: "../escaped", body: "x" }], UnsafeArchiveError, /".." component/);
    await expectRefused([{ path: "a/../../escaped", body: "x" }], UnsafeArchiveError, /".." component/);
    await expectRefused(
      [
        { path: "ok", body: "x" },
        { path: "a", type: "link", linkpath: "../../etc/passwd" },
      ],
      UnsafeArchiveError,
    );
  });

  it("refuses a symlinked parent that leads out (containerd SymlinkUpAndOut, HardlinkRelativeLong)", async () => {
    await expectRefused(
      [
        { path: "evil", type: "symlink", linkpath: "../../.." },
        { path: "evil/file", body: "x" },
      ],
      UnsafeArchiveError,
      /leads out/,
    );
    await expectRefused(
      [
        { path: "a", type: "symlink", linkpath: "b" },
        { path: "b", type: "symlink", linkpath: "c/../.." },
        { path: "c/", type: "dir" },
        { path: "a/file", body: "x" },
      ],
      UnsafeArchiveError,
    );
    await expectRefused(
      [
        { path: "etc/", type: "dir" },
        { path: "etc/passwd", body: "inside" },
        { path: "localetc", type: "symlink", linkpath: "../../../../../../../etc" },
        { path: "localpasswd", type: "link", linkpath: "localetc/passwd" },
      ],
      UnsafeArchiveError,
    );
    await expectRefused([{ path: "d", type: "symlink", linkpath: "../" }, { path: "d/.wh.victim" }], UnsafeArchiveError);
    await expectRefused(
      [
        { path: "loop", type: "symlink", linkpath: "loop" },
        { path: "loop/x", body: "x" },
      ],
      UnsafeArchiveError,
      /levels of symlinks/,
    );
  });

  it("follows symlinked parents that stay inside, reading absolute targets against the root (containerd SymlinkAbsolute)", async () => {
    const { store, root } = newStore();
    const { dir } = await unpack(store, [
      { path: "etc/", type: "dir" },
      { path: "etc/whitedout", body: "old" },
      { path: "localetc", type: "symlink", linkpath: "/etc" },
      { path: "localetc/unbroken", body: "unbroken" },
      { path: "localetc/.wh.whitedout" },
      { path: "rel", type: "symlink", linkpath: "./etc/../etc" },
      { path: "rel/also", body: "x" },
    ]);
    expect(await fs.readFile(join(dir, "etc/unbroken"), "utf8")).toBe("unbroken");
    expect(await fs.readFile(join(dir, "etc/also"), "utf8")).toBe("x");
    expect((await fs.lstat(join(dir, "etc/whitedout"))).isCharacterDevice()).toBe(true);
    expect(await fs.readlink(join(dir, "localetc"))).toBe("/etc");
    await expectNoLeaks(root);
  });

  it("links to a symlink itself, never to what it points at (containerd HardlinkSymlinkRelative)", async () => {
    const { store, root } = newStore();
    const outside = tempDir("bento-outside-");
    cleanups.push(outside.remove);
    await fs.writeFile(join(outside.dir, "perm400"), "secret", { mode: 0o400 });
    const { dir } = await unpack(store, [
      { path: "passwdlink", type: "symlink", linkpath: join(outside.dir, "perm400") },
      { path: "sketchy", type: "link", linkpath: "passwdlink" },
    ]);
    expect((await fs.lstat(join(dir, "sketchy"))).isSymbolicLink()).toBe(true);
    expect((await fs.stat(join(outside.dir, "perm400"))).mode & 0o777).toBe(0o400);
    expect((await fs.stat(join(outside.dir, "perm400"))).nlink).toBe(1);
    await expectNoLeaks(root);
  });

  it("refuses a hardlink to something the layer does not hold", async () => {
    await expectRefused([{ path: "x", type: "link", linkpath: "lower/file" }], InvalidArchiveError, /not in this layer/);
  });
});

describe("digests", () => {
  it("refuses a blob whose content does not match its digest, leaving nothing", async () => {
    const { store, root } = newStore();
    const tar = tarOf([{ path: "f", body: "good" }]);
    const layer = await putLayer(store, tar);
    const blob = store.blobPath(layer.digest);
    await fs.chmod(blob, 0o644);
    await fs.writeFile(blob, gzipSync(tarOf([{ path: "f", body: "evil" }])));
    await expect(store.layerDir(layer.diffId, layer)).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(fs.lstat(join(root, "layers", layer.diffId.slice(7)))).rejects.toThrow(/ENOENT/);
    await expectNoLeaks(root);
  });

  it("refuses a layer whose uncompressed tar does not match its diff id", async () => {
    const { store, root } = newStore();
    const layer = await putLayer(store, tarOf([{ path: "f", body: "good" }]));
    const wrong = sha256("something else");
    const error = await store.layerDir(wrong, { ...layer, diffId: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as DigestMismatchError).expected).toBe(wrong);
    expect((error as DigestMismatchError).actual).toBe(layer.diffId);
    await expectNoLeaks(root);
  });

  it("reads uncompressed layers as well as gzip ones", async () => {
    const { store, root } = newStore();
    const layer = await putLayer(store, tarOf([{ path: "plain", body: "tar" }]), { gzip: false });
    expect(layer.mediaType).toBe(MediaType.ociLayer);
    expect(await treeOf(await store.layerDir(layer.diffId, layer))).toEqual({ plain: { type: "file", content: "tar" } });
    await expectNoLeaks(root);
  });
});
