/**
 * Escape item 8a: an imported image (an OCI layout through the SDK, a docker archive through
 * `bento load`) whose layer would write outside its root is refused at import, naming the layer
 * and the entry, and nothing is stored; a layer's device node for the host's disk is kept, as
 * docker load keeps it, and the device policy stops the container reading it.
 */
import "../setup-env.js";
import { isRoot, testRoot } from "../setup-env.js";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image, Store } from "../../../src/index.js";
import { sha256 } from "../../../src/store/digest.js";
import { bento } from "../cli/helpers.js";
import { expectNoLeaks as expectNoStoreLeaks, tarOf, type TestEntry } from "../store/helpers.js";
import { expectNoLeaks } from "../builder/helpers.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { hostDisk } from "./kit.js";

afterEach(() => expectNoLeaks());

const good = tarOf([{ path: "ok", body: "fine" }]);

/** Layers that would write outside the layer's root, each with the entry the error must name. */
const unsafe: Array<{ name: string; entries: TestEntry[]; entry: string }> = [
  { name: "dotdot", entries: [{ path: "../../escaped-dotdot", body: "x" }], entry: "../../escaped-dotdot" },
  { name: "absolute", entries: [{ path: "/tmp/escaped-absolute", body: "x" }], entry: "/tmp/escaped-absolute" },
  {
    name: "symlink-parent",
    entries: [
      { path: "up", type: "symlink", linkpath: "../../../../../../../.." },
      { path: "up/tmp/escaped-symlink", body: "x" },
    ],
    entry: "up/tmp/escaped-symlink",
  },
  { name: "hardlink-out", entries: [{ path: "shadow", type: "link", linkpath: "../../../etc/shadow" }], entry: "shadow" },
];

function blob(dir: string, data: Buffer): string {
  const digest = sha256(data);
  writeFileSync(join(dir, "blobs/sha256", digest.slice(7)), data);
  return digest;
}

/** An OCI image layout directory holding one image of the given layers, tagged `tag`. */
function ociLayout(layers: Buffer[], tag: string): string {
  const dir = mkdtempSync(join(testRoot, "oci-layout-"));
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/bin/true"] }, rootfs: { type: "layers", diff_ids: layers.map(sha256) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: blob(dir, config), size: config.length },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: blob(dir, l), size: l.length })),
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: blob(dir, manifest), size: manifest.length, annotations: { "org.opencontainers.image.ref.name": tag } }],
  };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index));
  return dir;
}

/** A `docker save` tar holding one image of the given layers, tagged `tag`. */
function dockerArchive(layers: Buffer[], tag: string): string {
  const dir = mkdtempSync(join(testRoot, "docker-archive-"));
  const names = layers.map((l, i) => {
    mkdirSync(join(dir, `l${i}`));
    writeFileSync(join(dir, `l${i}`, "layer.tar"), l);
    return `l${i}/layer.tar`;
  });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: layers.map(sha256) } }));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: [tag], Layers: names }]));
  execFileSync("tar", ["cf", `${dir}.tar`, "-C", dir, "."]);
  return `${dir}.tar`;
}

async function expectEmpty(root: string, what: string): Promise<void> {
  expect(await Store.open(root).images(), what).toEqual([]);
  expect(readdirSync(join(root, "blobs/sha256")), what).toEqual([]);
  expect(readdirSync(join(root, "layers")), what).toEqual([]);
  await expectNoStoreLeaks(root);
}

describe(`import of unsafe layers`, () => {
  it("refuses at import an OCI layout whose layer escapes its root (.., absolute name, symlinked parent, hardlink out), naming layer and entry, and stores nothing", async () => {
    for (const { name, entries, entry } of unsafe) {
      const root = mkdtempSync(join(testRoot, "import-store-"));
      const bad = tarOf(entries);
      const error = await Store.open(root)
        .import(ociLayout([good, bad], `${name}:1`))
        .catch((e: unknown) => e as Error);
      expect(error, name).toBeInstanceOf(Error);
      expect((error as Error).message, name).toContain(`layer ${sha256(bad)}`);
      expect((error as Error).message, name).toContain(`entry "${entry}"`);
      await expectEmpty(root, name);
    }
    expect(existsSync("/tmp/escaped-absolute") || existsSync("/tmp/escaped-symlink")).toBe(false);
  });

  it("bento load refuses a docker archive whose layer climbs out with .., exit 1 naming the entry, and stores nothing", async () => {
    const home = mkdtempSync(join(testRoot, "load-home-"));
    const archive = dockerArchive([good, tarOf(unsafe[0]!.entries)], "dotdot:1");
    const loaded = await bento(["load", "-i", archive], { env: { BENTO_HOME: home } });
    expect(loaded.code).toBe(1);
    expect(loaded.stdout).toBe("");
    expect(loaded.stderr).toContain('entry "../../escaped-dotdot" has a ".." component');
    await expectEmpty(home, "bento load");
  });

  it("keeps an imported layer's node for the host's disk (as docker load does; rootless it is skipped) and the container cannot read the disk through it", async () => {
    const [major, minor] = hostDisk().split(" ").map(Number) as [number, number];
    const base = execFileSync("tar", ["cf", "-", "-C", busyboxRootfs(), "."], { maxBuffer: 1 << 28 });
    const planted = tarOf([{ path: "disk", type: "block", devmajor: major, devminor: minor, mode: 0o666 }]);
    const tag = `planted-disk-${process.pid}:1`;
    const store = Store.default();
    await store.import(ociLayout([base, planted], tag));
    try {
      const running = await new Container(Image.from(tag), { command: ["sh", "-c", "ls -l /disk | cut -c1; head -c 512 /disk | wc -c"] }).start();
      await running.wait();
      const out = await running.logs({ stream: "stdout" });
      await (await running.stop()).remove();
      expect(out).toBe(`${isRoot ? "b\n" : ""}0\n`);
    } finally {
      await store.removeImage(tag);
    }
  });
});
