/**
 * createLayerFromDir: an overlay upper dir back into an OCI layer. Whiteout devices and opaque
 * directories become `.wh.` entries (the reverse of apply-layer), overlay's own xattrs stay out,
 * the tar is deterministic, and unpacking the layer again gives the same tree. The last test
 * lets the kernel make the whiteouts: it mounts a real overlay, deletes through it, and reads
 * the upper dir back.
 */
import { execFileSync } from "node:child_process";
import { createReadStream, promises as fs } from "node:fs";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArchiveError } from "../../../src/store/errors.js";
import { nativeFs } from "../../../src/store/native-fs.js";
import { readTar, type TarEntry } from "../../../src/store/tar-reader.js";
import { expectNoLeaks, flatten, imageOf, isRoot, tarOf, tempDir, tempStore, treeOf, withOverlay } from "./helpers.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function scratch(): string {
  const d = tempDir("bento-upper-");
  cleanups.push(d.remove);
  return d.dir;
}

function store(): ReturnType<typeof tempStore> {
  const s = tempStore();
  cleanups.push(s.remove);
  return s;
}

/** The entries of a gzip layer blob, without bodies. */
async function entriesOf(blob: string): Promise<Array<Omit<TarEntry, "body">>> {
  const out: Array<Omit<TarEntry, "body">> = [];
  for await (const entry of readTar(createReadStream(blob).pipe(createGunzip()), "test layer")) {
    const { body: _body, ...rest } = entry;
    out.push(rest);
  }
  return out;
}

async function makeUpper(dir: string): Promise<void> {
  const native = nativeFs();
  await fs.mkdir(join(dir, "etc"));
  await fs.writeFile(join(dir, "etc/hostname"), "box\n");
  await fs.writeFile(join(dir, "etc/shared"), "linked");
  await fs.link(join(dir, "etc/shared"), join(dir, "etc/shared-too"));
  await fs.symlink("hostname", join(dir, "etc/name"));
  native.mknod(join(dir, "etc/removed"), 0o020000, 0);
  await fs.mkdir(join(dir, "var"));
  await fs.mkdir(join(dir, "var/cache"));
  native.lsetxattr(join(dir, "var/cache"), isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque", Buffer.from("y"));
  await fs.writeFile(join(dir, "var/cache/fresh"), "new");
  await fs.writeFile(join(dir, "tagged"), "x");
  native.lsetxattr(join(dir, "tagged"), "user.note", Buffer.from([1, 2, 3]));
  if (isRoot) native.lsetxattr(join(dir, "tagged"), "trusted.overlay.origin", Buffer.from("opaque-handle"));
  native.mknod(join(dir, "fifo"), 0o010000 | 0o600, 0);
  if (isRoot) {
    native.mknod(join(dir, "etc/null"), 0o020000 | 0o666, (1 << 8) | 3);
    await fs.chmod(join(dir, "etc/null"), 0o666);
    await fs.writeFile(join(dir, "suid"), "elf");
    await fs.chown(join(dir, "suid"), 0, 0);
    await fs.chmod(join(dir, "suid"), 0o4755);
    await fs.chown(join(dir, "etc/hostname"), 1000, 1001);
  }
}

describe("createLayerFromDir", () => {
  it("writes whiteout devices and opaque dirs as .wh. entries, opaque markers before the children", async () => {
    const { store: s, root } = store();
    const upper = scratch();
    await makeUpper(upper);
    const layer = await s.createLayerFromDir(upper);
    expect(layer.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    const entries = await entriesOf(s.blobPath(layer.digest));
    const paths = entries.map((e) => e.path);
    expect(paths).toContain("etc/.wh.removed");
    expect(paths).not.toContain("etc/removed");
    const opaque = paths.indexOf("var/cache/.wh..wh..opq");
    expect(opaque).toBe(paths.indexOf("var/cache/") + 1);
    expect(opaque).toBeLessThan(paths.indexOf("var/cache/fresh"));
    expect(entries.find((e) => e.path === "etc/shared-too")).toMatchObject({ type: "link", linkpath: "etc/shared" });
    expect(entries.find((e) => e.path === "etc/name")).toMatchObject({ type: "symlink", linkpath: "hostname" });
    expect(entries.find((e) => e.path === "fifo")).toMatchObject({ type: "fifo", mode: 0o600 });
    const tagged = entries.find((e) => e.path === "tagged");
    expect([...(tagged?.xattrs.keys() ?? [])]).toEqual(["user.note"]);
    expect(tagged?.xattrs.get("user.note")).toEqual(Buffer.from([1, 2, 3]));
    expect(paths.every((p) => !p.includes("overlay"))).toBe(true);
    if (isRoot) {
      expect(entries.find((e) => e.path === "etc/null")).toMatchObject({ type: "char", devmajor: 1, devminor: 3, mode: 0o666 });
      expect(entries.find((e) => e.path === "suid")).toMatchObject({ mode: 0o4755 });
      expect(entries.find((e) => e.path === "etc/hostname")).toMatchObject({ uid: 1000, gid: 1001 });
    }
    await expectNoLeaks(root);
  });

  it("is deterministic and unpacks back to the same tree", async () => {
    const { store: s, root } = store();
    const upper = scratch();
    await makeUpper(upper);
    const first = await s.createLayerFromDir(upper);
    const second = await s.createLayerFromDir(upper);
    expect(second).toEqual(first);
    const dir = await s.layerDir(first.diffId);
    expect(await treeOf(dir, true)).toEqual(await treeOf(upper, true));
    const opaqueName = isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque";
    expect(nativeFs().lgetxattr(join(dir, "var/cache"), opaqueName)?.toString()).toBe("y");
    expect(nativeFs().lgetxattr(join(dir, "tagged"), "user.note")).toEqual(Buffer.from([1, 2, 3]));
    const shared = await fs.lstat(join(dir, "etc/shared"));
    expect((await fs.lstat(join(dir, "etc/shared-too"))).ino).toBe(shared.ino);
    await expectNoLeaks(root);
  });

  it("refuses an upper dir written with redirect_dir, which a plain walk cannot read", async () => {
    const { store: s, root } = store();
    const upper = scratch();
    await fs.mkdir(join(upper, "moved"));
    nativeFs().lsetxattr(join(upper, "moved"), isRoot ? "trusted.overlay.redirect" : "user.overlay.redirect", Buffer.from("/orig"));
    await expect(s.createLayerFromDir(upper)).rejects.toBeInstanceOf(InvalidArchiveError);
    await expect(s.createLayerFromDir(upper)).rejects.toThrow(/redirect_dir=off/);
    await expectNoLeaks(root);
  });

  it("reads back the whiteouts the kernel makes in a real overlay upper dir", async () => {
    const { store: s, root } = store();
    const base = await imageOf(s, [
      tarOf([
        { path: "etc/", type: "dir" },
        { path: "etc/keep", body: "keep" },
        { path: "etc/drop", body: "drop" },
        { path: "cache/", type: "dir" },
        { path: "cache/old", body: "old" },
      ]),
    ]);
    const lowers = await s.lowerDirs(base.id);
    const work = scratch();
    const upper = join(work, "upper");
    const merged = join(work, "merged");
    await fs.mkdir(upper);
    await fs.mkdir(join(work, "work"));
    await fs.mkdir(merged);
    try {
      execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${join(work, "work")}`, merged], { stdio: "pipe" });
    } catch (e) {
      // Not every host allows overlay mounts (nested containers); say so instead of failing.
      console.warn(`skipping the kernel-whiteout check: overlay mount failed: ${(e as Error).message}`);
      return;
    }
    try {
      await fs.rm(join(merged, "etc/drop"));
      await fs.rm(join(merged, "cache"), { recursive: true });
      await fs.mkdir(join(merged, "cache"));
      await fs.writeFile(join(merged, "cache/new"), "new");
    } finally {
      execFileSync("umount", [merged]);
    }
    const layer = await s.createLayerFromDir(upper);
    const paths = (await entriesOf(s.blobPath(layer.digest))).map((e) => e.path);
    expect(paths).toContain("etc/.wh.drop");
    expect(paths).toContain("cache/.wh..wh..opq");
    const child = await s.writeImage({ config: { architecture: "amd64", os: "linux" }, layers: [...base.layers, layer] }, { tags: ["child:test"] });
    const expected = { cache: { type: "dir" }, "cache/new": { type: "file", content: "new" }, etc: { type: "dir" }, "etc/keep": { type: "file", content: "keep" } };
    const childLowers = await s.lowerDirs(child.id);
    expect(await flatten(childLowers)).toEqual(expected);
    const viaKernel = await withOverlay(childLowers, (m) => treeOf(m));
    if (viaKernel !== undefined) expect(viaKernel).toEqual(expected);
    await expectNoLeaks(root);
  });
});
