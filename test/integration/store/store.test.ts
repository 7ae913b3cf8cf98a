/**
 * The store's image API: tags (one image per tag; a moved tag leaves the old image `<none>`),
 * inspect, removal (refused while a container uses the image), prune, disk usage, the build
 * cache, and export/import round trips, including `skopeo inspect` of the archives.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sha256 } from "../../../src/store/digest.js";
import { removeFreeLocks, withLock } from "../../../src/store/lock.js";
import { ImageConflictError, ImageInUseError, ImageNotFoundError, InvalidArchiveError, InvalidReferenceError } from "../../../src/store/errors.js";
import type { Store } from "../../../src/registry/store.js";
import { expectNoLeaks, imageOf, tarOf, tempDir, tempStore, treeOf } from "./helpers.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function newStore(options: Parameters<typeof tempStore>[0] = {}): { store: Store; root: string } {
  const s = tempStore(options);
  cleanups.push(s.remove);
  return s;
}

function scratch(): string {
  const d = tempDir("bento-export-");
  cleanups.push(d.remove);
  return d.dir;
}

const layerA = tarOf([{ path: "a", body: "A" }]);
const layerB = tarOf([{ path: "b", body: "B" }]);

function hasSkopeo(): boolean {
  try {
    execFileSync("skopeo", ["--version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

describe("tags", () => {
  it("lists untagged images as <none> and moves tags, leaving the old image untagged", async () => {
    const { store, root } = newStore();
    const one = await imageOf(store, [layerA], ["app:1"]);
    const two = await imageOf(store, [layerA, layerB]);
    expect((await store.images()).map((r) => [r.repository, r.tag, r.id])).toEqual(
      expect.arrayContaining([
        ["app", "1", one.id],
        ["<none>", "<none>", two.id],
      ]),
    );
    await store.tag(two.id, "app:1");
    const rows = await store.images();
    expect(rows.find((r) => r.id === one.id)).toMatchObject({ repository: "<none>", tag: "<none>", repoTags: [] });
    expect(rows.find((r) => r.id === two.id)).toMatchObject({ repository: "app", tag: "1", repoTags: ["app:1"] });
    expect(await fs.readFile(join(root, "refs/docker.io/library/app/1"), "utf8")).toBe(`${two.manifestDigest}\n`);
    await expectNoLeaks(root);
  });

  it("gives an image several tags and removes one with untag", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [layerA]);
    await store.tag(img.id, "app:1");
    await store.tag("app:1", "registry.example.com:5000/team/app:v1");
    await expect(store.tag("app", "app:2")).rejects.toBeInstanceOf(ImageNotFoundError);
    expect((await store.inspect(img.id)).repoTags).toEqual(["app:1", "registry.example.com:5000/team/app:v1"]);
    await store.untag("app:1");
    expect((await store.inspect(img.id)).repoTags).toEqual(["registry.example.com:5000/team/app:v1"]);
    await store.untag("registry.example.com:5000/team/app:v1");
    expect((await store.images()).map((r) => r.repository)).toEqual(["<none>"]);
    expect(existsSync(join(root, "refs/registry.example.com:5000"))).toBe(false);
    await expect(store.untag("app:1")).rejects.toBeInstanceOf(ImageNotFoundError);
    await expectNoLeaks(root);
  });

  it("refuses malformed references and unknown images, changing nothing", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [layerA], ["app:1"]);
    await expect(store.tag(img.id, "Bad Name")).rejects.toBeInstanceOf(InvalidReferenceError);
    await expect(store.tag(img.id, "app:-x")).rejects.toBeInstanceOf(InvalidReferenceError);
    await expect(store.tag("nope:1", "app:2")).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.inspect("UPPER")).rejects.toBeInstanceOf(InvalidReferenceError);
    expect((await store.images()).map((r) => `${r.repository}:${r.tag}`)).toEqual(["app:1"]);
    await expectNoLeaks(root);
  });

  it("refuses a tag whose refs/ file would collide with a repository of the same name", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [layerA], ["app:x"]);
    await expect(store.tag(img.id, "library/app/x:1")).rejects.toThrow(/collides with refs\/docker.io\/library\/app\/x/);
    await store.tag(img.id, "library/other/y:1");
    await expect(store.tag(img.id, "other:y")).rejects.toBeInstanceOf(InvalidReferenceError);
    expect((await store.inspect(img.id)).repoTags).toEqual(["app:x", "library/other/y:1"]);
    const index = JSON.parse(await fs.readFile(join(root, "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(2);
    await expectNoLeaks(root);
  });

  it("resolves ids, id prefixes, manifest digests and name@digest", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [layerA], ["app:1"]);
    for (const ref of [img.id, img.id.slice(7), img.id.slice(7, 19), img.manifestDigest, `app@${img.manifestDigest}`, "docker.io/library/app:1"]) {
      expect((await store.resolve(ref)).id).toBe(img.id);
    }
    await expectNoLeaks(root);
  });
});

describe("inspect and writeImage", () => {
  it("reports id, digest, layers with diff ids and sizes, config with Docker's fields, history", async () => {
    const { store, root } = newStore();
    const config = {
      created: "2024-05-01T00:00:00Z",
      config: {
        Env: ["PATH=/usr/bin"],
        Cmd: ["-p", "8080"],
        Entrypoint: ["/bin/httpd"],
        Healthcheck: { Test: ["CMD", "true"], Interval: 500_000_000, Retries: 20 },
        Shell: ["/bin/bash", "-c"],
        OnBuild: ["RUN echo child"],
        StopSignal: "SIGINT",
      },
      history: [{ created_by: "COPY a /" }, { created_by: "COPY b /" }, { created_by: "CMD", empty_layer: true }],
    };
    const img = await imageOf(store, [layerA, layerB], ["web:test"], config);
    const info = await store.inspect("web:test");
    expect(info.id).toBe(img.id);
    expect(info.id).toBe(sha256(await store.readBlob(img.id)));
    expect(info.manifestDigest).toBe(img.manifestDigest);
    expect(info.layers.map((l) => l.diffId)).toEqual([sha256(layerA), sha256(layerB)]);
    expect(info.layers.map((l) => l.digest)).toEqual(img.layers.map((l) => l.digest));
    expect(info.config).toEqual(config.config);
    expect(info.history).toEqual(config.history);
    expect(info.created).toBe("2024-05-01T00:00:00Z");
    expect(info.sizeBytes).toBeGreaterThan(0);
    expect(info.rawConfig.rootfs).toEqual({ type: "layers", diff_ids: [sha256(layerA), sha256(layerB)] });
    await expectNoLeaks(root);
  });

  it("keeps config bytes exactly when given bytes, so the id is kept", async () => {
    const { store, root } = newStore();
    const src = await imageOf(store, [layerA]);
    const bytes = await store.readBlob(src.id);
    const again = await store.writeImage({ config: bytes, layers: src.layers });
    expect(again.id).toBe(src.id);
    await expect(store.writeImage({ config: bytes, layers: [] })).rejects.toThrow(/diff_ids/);
    await expect(store.writeImage({ config: {}, layers: [{ ...src.layers[0]!, digest: sha256("missing") }] })).rejects.toThrow(/not in the store/);
    await expectNoLeaks(root);
  });
});

describe("removal", () => {
  it("refuses to remove an image a container uses, even with force", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [layerA], ["app:1"]);
    await fs.mkdir(join(root, "containers", "c0ffee"), { recursive: true });
    await fs.writeFile(join(root, "containers", "c0ffee", "config.json"), JSON.stringify({ imageId: img.id }));
    for (const ref of ["app:1", img.id]) {
      const error = await store.removeImage(ref, { force: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageInUseError);
      expect((error as ImageInUseError).containers).toEqual(["c0ffee"]);
    }
    expect((await store.pruneImages({ dangling: false })).deleted).toEqual([]);
    await fs.rm(join(root, "containers", "c0ffee"), { recursive: true });
    expect((await store.removeImage("app:1")).deleted).toEqual([img.id]);
    await expectNoLeaks(root);
  });

  it("asks the usage hook it was given", async () => {
    const { store, root } = newStore({ usage: { containersUsing: async () => ["from-the-runtime"] } });
    await imageOf(store, [layerA], ["app:1"]);
    await expect(store.removeImage("app:1")).rejects.toThrow(/from-the-runtime/);
    await expectNoLeaks(root);
  });

  it("removes a tag of a multi-tagged image, needs force by id, and deletes only unshared blobs and layers", async () => {
    const { store, root } = newStore();
    const base = await imageOf(store, [layerA], ["base:1"]);
    const app = await imageOf(store, [layerA, layerB], ["app:1", "app:2"]);
    const lowers = await store.lowerDirs("app:1");
    expect(lowers).toHaveLength(2);
    expect(await store.removeImage("app:2")).toEqual({ untagged: ["docker.io/library/app:2"], deleted: [], reclaimedBytes: 0 });
    await store.tag("app:1", "app:3");
    await expect(store.removeImage(app.id)).rejects.toBeInstanceOf(ImageConflictError);
    const removed = await store.removeImage(app.id, { force: true });
    expect(removed.deleted).toEqual([app.id]);
    expect(removed.untagged.sort()).toEqual(["docker.io/library/app:1", "docker.io/library/app:3"]);
    expect(removed.reclaimedBytes).toBeGreaterThan(0);
    expect(await store.hasBlob(app.layers[1]!.digest)).toBe(false);
    expect(await store.hasBlob(app.manifestDigest)).toBe(false);
    expect(await store.hasBlob(base.layers[0]!.digest)).toBe(true);
    expect(existsSync(lowers[0]!)).toBe(false);
    expect(existsSync(lowers[1]!)).toBe(true);
    expect((await store.images()).map((r) => `${r.repository}:${r.tag}`)).toEqual(["base:1"]);
    await expect(store.inspect(app.id)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expectNoLeaks(root);
  });

  it("prunes dangling images only, or every unused image", async () => {
    const { store, root } = newStore();
    const tagged = await imageOf(store, [layerA], ["keep:1"]);
    const dangling = await imageOf(store, [layerB]);
    const usage = await store.diskUsage();
    expect(usage.images.count).toBe(2);
    expect(usage.reclaimableBytes).toBeGreaterThan(0);
    expect((await store.pruneImages()).deleted).toEqual([dangling.id]);
    expect((await store.diskUsage()).reclaimableBytes).toBe(0);
    expect((await store.pruneImages({ dangling: false })).deleted).toEqual([tagged.id]);
    expect(await store.images()).toEqual([]);
    expect((await fs.readdir(join(root, "blobs/sha256"))).length).toBe(0);
    await expectNoLeaks(root);
  });
});

describe("orphans", () => {
  it("prunes blobs no image refers to once they are an hour old, and spares a build's fresh layers", async () => {
    const { store, root } = newStore();
    await imageOf(store, [layerA], ["keep:1"]);
    const old = await store.putBlob(Buffer.from("left by a crashed import"));
    const upper = scratch();
    await fs.writeFile(join(upper, "built"), "by a RUN step");
    const fresh = await store.createLayerFromDir(upper);
    const hoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await fs.utimes(store.blobPath(old.digest), hoursAgo, hoursAgo);
    const freshDir = await store.layerDir(fresh.diffId);
    const result = await store.pruneImages();
    expect(result.deleted).toEqual([]);
    expect(result.reclaimedBytes).toBeGreaterThan(0);
    expect(await store.hasBlob(old.digest)).toBe(false);
    expect(await store.hasBlob(fresh.digest)).toBe(true);
    expect(existsSync(freshDir)).toBe(true);
    expect((await store.images()).map((r) => r.repository)).toEqual(["keep"]);
    await expectNoLeaks(root);
  });
});

describe("opening", () => {
  it("sweeps temp files and layer dirs whose owner process died, and keeps live ones", async () => {
    const { root } = newStore();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid as number;
    await fs.mkdir(join(root, "tmp"), { recursive: true });
    await fs.mkdir(join(root, "layers", `tmp-${dead}-0123456789abcdef`), { recursive: true });
    await fs.writeFile(join(root, "layers", `tmp-${dead}-0123456789abcdef`, "half"), "unpacked");
    await fs.writeFile(join(root, "tmp", `${dead}-0123456789abcdef`), "half a blob");
    await fs.writeFile(join(root, "tmp", `${process.ppid}-fedcba9876543210`), "a live writer's");
    const { Store } = await import("../../../src/registry/store.js");
    await Store.open(root).images();
    expect(await fs.readdir(join(root, "layers"))).toEqual([]);
    expect(await fs.readdir(join(root, "tmp"))).toEqual([`${process.ppid}-fedcba9876543210`]);
    await fs.rm(join(root, "tmp", `${process.ppid}-fedcba9876543210`));
    await expectNoLeaks(root);
  });

  it("creates the DESIGN.md layout, an OCI image layout at the root", async () => {
    const { store, root } = newStore();
    await store.images();
    expect((await fs.readdir(root)).sort()).toEqual(["blobs", "cache", "containers", "index.json", "layers", "oci-layout", "refs", "tmp", "volumes"]);
    expect(JSON.parse(await fs.readFile(join(root, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    expect(JSON.parse(await fs.readFile(join(root, "index.json"), "utf8"))).toEqual({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] });
    await expectNoLeaks(root);
  });
});

describe("disk usage and the build cache", () => {
  it("counts blobs, unpacked layers, containers, volumes and cache records", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [layerA, layerB], ["app:1"]);
    await store.lowerDirs(img.id);
    await store.putCacheRecord("k1", { imageId: img.id });
    await fs.mkdir(join(store.volumesDir, "v1"), { recursive: true });
    await fs.writeFile(join(store.volumesDir, "v1", "data"), Buffer.alloc(10_000));
    const usage = await store.diskUsage();
    expect(usage.images.count).toBe(1);
    expect(usage.blobs.count).toBe(4);
    expect(usage.layers.count).toBe(2);
    expect(usage.volumes.count).toBe(1);
    expect(usage.volumes.sizeBytes).toBeGreaterThanOrEqual(10_000);
    expect(usage.cache.count).toBe(1);
    expect(usage.totalBytes).toBe(usage.blobs.sizeBytes + usage.layers.sizeBytes + usage.containers.sizeBytes + usage.volumes.sizeBytes + usage.cache.sizeBytes);
    expect(await store.getCacheRecord("k1")).toEqual({ imageId: img.id });
    expect(await store.getCacheRecord("k2")).toBeUndefined();
    await expect(store.putCacheRecord("../escape", {})).rejects.toThrow(/cache key/);
    await expectNoLeaks(root);
  });
});

describe("build lock files", () => {
  it("removes the ones no process holds, keeps a held one, and a locker whose file was removed locks the new one", async () => {
    const dir = scratch();
    await fs.writeFile(join(dir, "stale"), "");
    let removedWhileHeld = -1;
    await withLock(
      join(dir, "held"),
      async () => {
        removedWhileHeld = await removeFreeLocks(dir);
      },
      { timeoutMs: 1000 },
    );
    expect(removedWhileHeld).toBe(1);
    expect(await fs.readdir(dir)).toEqual(["held"]);
    expect(await removeFreeLocks(dir)).toBe(1);
    expect(await fs.readdir(dir)).toEqual([]);
    // Two lockers of one path never overlap, even with sweeps in between.
    let inside = 0;
    let overlapped = false;
    const locker = () =>
      withLock(
        join(dir, "k"),
        async () => {
          overlapped ||= ++inside > 1;
          await new Promise((r) => setImmediate(r));
          inside--;
        },
        { timeoutMs: 5000 },
      );
    await Promise.all([...Array.from({ length: 20 }, locker), ...Array.from({ length: 20 }, () => removeFreeLocks(dir))]);
    expect(overlapped).toBe(false);
  });
});

describe("export and import", () => {
  for (const format of ["oci", "docker"] as const) {
    it(`round-trips an image through a ${format} archive with the same id`, async () => {
      const src = newStore();
      const img = await imageOf(src.store, [layerA, layerB], ["app:1"], { config: { Cmd: ["x"], Healthcheck: { Test: ["NONE"] } } });
      const out = join(scratch(), `app-${format}.tar`);
      await src.store.export("app:1", out, { format });
      const names = execFileSync("tar", ["tf", out], { encoding: "utf8" }).trim().split("\n");
      expect(names).toEqual(expect.arrayContaining(["oci-layout", "index.json", `blobs/sha256/${img.id.slice(7)}`]));
      expect(names.includes("manifest.json")).toBe(format === "docker");
      const dst = newStore();
      const result = await dst.store.import(out);
      expect(result.images).toEqual([{ id: img.id, manifestDigest: img.manifestDigest, tags: ["app:1"] }]);
      expect((await dst.store.inspect("app:1")).config).toEqual({ Cmd: ["x"], Healthcheck: { Test: ["NONE"] } });
      expect(await treeOf((await dst.store.lowerDirs("app:1"))[0]!)).toEqual({ b: { type: "file", content: "B" } });
      await expectNoLeaks(src.root);
      await expectNoLeaks(dst.root);
    });
  }

  it("streams big layers through temp files and reads legacy docker save archives (symlinked duplicate layers)", async () => {
    const dir = scratch();
    const big = randomBytes(3 << 20);
    const tar = tarOf([{ path: "blob.bin", body: big }]);
    const legacy = join(dir, "legacy");
    await fs.mkdir(join(legacy, "1111"), { recursive: true });
    await fs.mkdir(join(legacy, "2222"), { recursive: true });
    await fs.writeFile(join(legacy, "1111", "layer.tar"), tar);
    await fs.symlink("../1111/layer.tar", join(legacy, "2222", "layer.tar"));
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha256(tar), sha256(tar)] } }));
    const configName = `${sha256(config).slice(7)}.json`;
    await fs.writeFile(join(legacy, configName), config);
    await fs.writeFile(join(legacy, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: ["legacy:1"], Layers: ["1111/layer.tar", "2222/layer.tar"] }]));
    execFileSync("tar", ["cf", join(dir, "legacy.tar"), "-C", legacy, "."]);
    const { store, root } = newStore();
    const { images } = await store.import(join(dir, "legacy.tar"));
    expect(images).toEqual([{ id: sha256(config), manifestDigest: expect.stringMatching(/^sha256:/), tags: ["legacy:1"] }]);
    const info = await store.inspect("legacy:1");
    expect(info.layers.map((l) => [l.digest, l.mediaType])).toEqual([
      [sha256(tar), "application/vnd.oci.image.layer.v1.tar"],
      [sha256(tar), "application/vnd.oci.image.layer.v1.tar"],
    ]);
    const lowers = await store.lowerDirs("legacy:1");
    expect(lowers).toHaveLength(1);
    expect((await fs.readFile(join(lowers[0]!, "blob.bin"))).equals(big)).toBe(true);
    const out = join(dir, "again.tar");
    await store.export("legacy:1", out, { format: "docker" });
    const other = newStore();
    expect((await other.store.import(out)).images.map((i) => i.id)).toEqual([sha256(config)]);
    await expectNoLeaks(root);
    await expectNoLeaks(other.root);
  });

  it("imports an untagged export by id, and a gzipped archive", async () => {
    const src = newStore();
    const img = await imageOf(src.store, [layerA]);
    const dir = scratch();
    await src.store.export(img.id, join(dir, "img.tar"));
    execFileSync("gzip", ["-k", join(dir, "img.tar")]);
    const dst = newStore();
    expect((await dst.store.import(join(dir, "img.tar.gz"))).images).toEqual([{ id: img.id, manifestDigest: img.manifestDigest, tags: [] }]);
    expect((await dst.store.images()).map((r) => r.repository)).toEqual(["<none>"]);
    await expectNoLeaks(dst.root);
  });

  it("imports an OCI layout directory (the store's own root is one)", async () => {
    const src = newStore();
    const img = await imageOf(src.store, [layerA], ["app:1"]);
    const dst = newStore();
    const result = await dst.store.import(src.root);
    expect(result.images).toEqual([{ id: img.id, manifestDigest: img.manifestDigest, tags: ["app:1"] }]);
    await expectNoLeaks(dst.root);
  });

  it("refuses a tampered archive and adds nothing", async () => {
    const src = newStore();
    await imageOf(src.store, [layerA], ["app:1"]);
    const dir = scratch();
    const out = join(dir, "app.tar");
    await src.store.export("app:1", out, { format: "docker" });
    const unpacked = join(dir, "x");
    await fs.mkdir(unpacked);
    execFileSync("tar", ["xf", out, "-C", unpacked]);
    const config = JSON.parse(await fs.readFile(join(unpacked, "manifest.json"), "utf8"))[0].Config as string;
    const doc = JSON.parse(await fs.readFile(join(unpacked, config), "utf8"));
    doc.rootfs.diff_ids[0] = sha256("not the layer");
    const forged = Buffer.from(JSON.stringify(doc));
    await fs.rm(join(unpacked, "index.json"));
    await fs.writeFile(join(unpacked, "forged.json"), forged);
    await fs.writeFile(join(unpacked, "manifest.json"), JSON.stringify([{ Config: "forged.json", RepoTags: ["forged:1"], Layers: JSON.parse(await fs.readFile(join(unpacked, "manifest.json"), "utf8"))[0].Layers }]));
    execFileSync("tar", ["cf", join(dir, "forged.tar"), "-C", unpacked, "."]);
    const dst = newStore();
    await expect(dst.store.import(join(dir, "forged.tar"))).rejects.toThrow(/diff id/);
    await expect(dst.store.import(join(dir, "nothing.tar"))).rejects.toBeInstanceOf(InvalidArchiveError);
    expect(await dst.store.images()).toEqual([]);
    expect(await fs.readdir(join(dst.root, "blobs/sha256"))).toEqual([]);
    await expectNoLeaks(dst.root);
  });

  it("refuses at import, as docker load does, an archive whose layer would escape or break the root, and adds nothing", async () => {
    const dir = scratch();
    const good = tarOf([{ path: "ok", body: "fine" }]);
    const unsafe: Record<string, Buffer> = {
      dotdot: tarOf([{ path: "../../escaped", body: "x" }]),
      absolute: tarOf([{ path: "/etc/escaped", body: "x" }]),
      "symlink-parent-dotdot": tarOf([
        { path: "up", type: "symlink", linkpath: "../../.." },
        { path: "up/escaped", body: "x" },
      ]),
      "hardlink-outside": tarOf([{ path: "shadow", type: "link", linkpath: "../../etc/shadow" }]),
    };
    const { store, root } = newStore();
    for (const [name, bad] of Object.entries(unsafe)) {
      const archive = join(dir, name);
      await fs.mkdir(join(archive, "l1"), { recursive: true });
      await fs.mkdir(join(archive, "l2"), { recursive: true });
      await fs.writeFile(join(archive, "l1", "layer.tar"), good);
      await fs.writeFile(join(archive, "l2", "layer.tar"), bad);
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha256(good), sha256(bad)] } }));
      await fs.writeFile(join(archive, "config.json"), config);
      await fs.writeFile(join(archive, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: [`${name}:1`], Layers: ["l1/layer.tar", "l2/layer.tar"] }]));
      execFileSync("tar", ["cf", `${archive}.tar`, "-C", archive, "."]);
      await expect(store.import(`${archive}.tar`), name).rejects.toThrow(/layer .*entry "[^"]+"/);
      expect(await store.images(), name).toEqual([]);
      expect(await fs.readdir(join(root, "blobs/sha256")), name).toEqual([]);
      expect(await fs.readdir(join(root, "layers")), name).toEqual([]);
    }
    expect(existsSync(join(dir, "..", "escaped"))).toBe(false);
    await expectNoLeaks(root);
  });

  it("writes archives skopeo reads as oci-archive and docker-archive (apt package skopeo)", async () => {
    if (!hasSkopeo()) throw new Error("this test checks exports with skopeo, which is not installed: apt-get install -y skopeo (npm test installs it as root)");
    const src = newStore();
    const img = await imageOf(src.store, [layerA, layerB], ["app:1"], { config: { Cmd: ["/bin/true"] } });
    const dir = scratch();
    await src.store.export("app:1", join(dir, "oci.tar"), { format: "oci" });
    await src.store.export("app:1", join(dir, "docker.tar"), { format: "docker" });
    const oci = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci-archive:${join(dir, "oci.tar")}:1`], { encoding: "utf8" }));
    expect(oci.config.digest).toBe(img.id);
    const ociConfig = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `oci-archive:${join(dir, "oci.tar")}`], { encoding: "utf8" }));
    expect(ociConfig.rootfs.diff_ids).toEqual([sha256(layerA), sha256(layerB)]);
    const docker = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${join(dir, "docker.tar")}`], { encoding: "utf8" }));
    expect(docker.Layers).toHaveLength(2);
    expect(docker.RepoTags ?? []).toBeDefined();
    const dockerConfig = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `docker-archive:${join(dir, "docker.tar")}`], { encoding: "utf8" }));
    expect(dockerConfig.config.Cmd).toEqual(["/bin/true"]);
    // skopeo copies from the docker archive into an OCI layout that bento imports back.
    execFileSync("skopeo", ["copy", "--quiet", `docker-archive:${join(dir, "docker.tar")}`, `oci:${join(dir, "layout")}:copied`]);
    const dst = newStore();
    const result = await dst.store.import(join(dir, "layout"));
    expect(result.images.map((i) => i.id)).toEqual([img.id]);
    await expectNoLeaks(src.root);
    await expectNoLeaks(dst.root);
  });
});
