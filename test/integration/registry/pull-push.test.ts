/**
 * Pull and push against a real registry (Debian's docker-registry, distribution v2.8) on
 * 127.0.0.1, started by this file: round trips between two stores keep the image id and layers,
 * pulls by digest, repeated pulls fetch nothing, multi-platform indexes, cross-repository mounts,
 * blob redirects to another origin, mirrors, the pull policies, and the errors (unknown tag,
 * unreachable registry, corrupt blob).
 */
import "../setup-env.js";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { promises as fs, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../../src/config.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { ensureImage } from "../../../src/registry/ensure.js";
import { ManifestUnknownError, PlatformNotFoundError, PullForbiddenError, RegistryUnreachableError } from "../../../src/registry/errors.js";
import type { TransferProgress } from "../../../src/registry/progress.js";
import { pullImage } from "../../../src/registry/pull.js";
import { sha256, type Digest } from "../../../src/store/digest.js";
import { DigestMismatchError, ImageNotFoundError } from "../../../src/store/errors.js";
import type { Store } from "../../../src/registry/store.js";
import { MediaType, type ImageIndex } from "../../../src/store/types.js";
import { expectNoLeaks, flatten, imageOf, putLayer, tarOf, tempStore } from "../store/helpers.js";
import { registriesRunning, registryBlobPath, startCountingProxy, startRegistry, type CountingProxy, type RegistryServer } from "./registry-server.js";

let registry: RegistryServer;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  expect(registriesRunning()).toBe(0);
});
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function newStore(): { store: Store; root: string } {
  const s = tempStore();
  cleanups.push(s.remove);
  return s;
}

async function proxy(options: Parameters<typeof startCountingProxy>[1] = {}): Promise<CountingProxy> {
  const p = await startCountingProxy(registry.host, options);
  cleanups.push(() => p.close());
  return p;
}

/** A small image: a base layer with a directory and a file, and a ~`bigBytes` random layer on top. */
async function makeImage(store: Store, tag: string, bigBytes = 64 * 1024, extra: Record<string, unknown> = {}): Promise<{ id: Digest; manifestDigest: Digest }> {
  const base = tarOf([
    { path: "etc/", type: "dir" },
    { path: "etc/greeting", body: `hello from ${tag}\n` },
  ]);
  const big = tarOf([{ path: "data.bin", body: randomBytes(bigBytes) }]);
  return imageOf(store, [base, big], [tag], extra);
}

describe("push, then pull into an empty store", () => {
  it("keeps the image id, the manifest digest and the layers; lowerDirs unpacks them", async () => {
    const a = newStore();
    const ref = `${registry.host}/roundtrip/app:1`;
    const made = await makeImage(a.store, ref);
    const pushEvents: TransferProgress[] = [];
    const pushed = await a.store.push(ref, { onProgress: (e) => pushEvents.push(e) });
    expect(pushed).toMatchObject({ reference: ref, id: made.id, manifestDigest: made.manifestDigest, uploadedBlobs: 3, existingBlobs: 0 });
    expect(
      pushEvents
        .filter((e) => e.status === "uploaded")
        .map((e) => e.kind)
        .sort(),
    ).toEqual(["config", "layer", "layer", "manifest"]);

    const b = newStore();
    const events: TransferProgress[] = [];
    const started = performance.now();
    const pulled = await b.store.pull(ref, { onProgress: (e) => events.push(e) });
    const pullMs = performance.now() - started;
    expect(pulled).toMatchObject({ reference: ref, id: made.id, manifestDigest: made.manifestDigest, downloadedBlobs: 4, platform: "linux/amd64", indexDigest: undefined });
    const there = await a.store.inspect(ref);
    const here = await b.store.inspect(ref);
    expect(here.id).toBe(there.id);
    expect(here.layers).toEqual(there.layers);
    expect(here.repoTags).toEqual([ref]);
    expect(
      events
        .filter((e) => e.status === "downloaded")
        .map((e) => e.kind)
        .sort(),
    ).toEqual(["config", "layer", "layer", "manifest"]);
    const lowers = await b.store.lowerDirs(ref);
    expect(lowers).toHaveLength(2);
    expect(readFileSync(join(lowers[1] as string, "etc/greeting"), "utf8")).toBe(`hello from ${ref}\n`);
    expect((await fs.stat(join(lowers[0] as string, "data.bin"))).size).toBe(64 * 1024);
    console.log(`pull of a 2-layer image (64 KiB) from the local registry: ${pullMs.toFixed(0)} ms`);
    await expectNoLeaks(a.root);
    await expectNoLeaks(b.root);
  });

  it("round-trips an imported docker save tarball with a whiteout, with its manifest bytes", async () => {
    const origin = newStore();
    const lower = tarOf([
      { path: "foo.txt", body: "foo\n" },
      { path: "bar.txt", body: "bar\n" },
    ]);
    const upper = tarOf([{ path: ".wh.foo.txt" }]);
    const { id: originId } = await imageOf(origin.store, [lower, upper], ["whiteout:1"]);
    const archive = join(origin.root, "whiteout_image.tar");
    await origin.store.export(originId, archive, { format: "docker" });
    const a = newStore();
    const { images } = await a.store.import(archive);
    const image = images[0] as { id: Digest };
    const ref = `${registry.host}/archive/whiteout:1`;
    await a.store.tag(image.id, ref);
    const there = await a.store.inspect(ref);
    await a.store.push(ref);
    const b = newStore();
    const pulled = await b.store.pull(ref);
    expect(pulled).toMatchObject({ id: there.id, manifestDigest: there.manifestDigest });
    expect(await flatten(await b.store.lowerDirs(ref))).toEqual({ "bar.txt": { type: "file", content: "bar\n" } });
    await expectNoLeaks(b.root);
  });

  it("pulls a few-MB image and reports the time", async () => {
    const a = newStore();
    const ref = `${registry.host}/timing/big:1`;
    const made = await makeImage(a.store, ref, 8 * 1024 * 1024);
    let t = performance.now();
    await a.store.push(ref);
    const pushMs = performance.now() - t;
    const b = newStore();
    t = performance.now();
    const pulled = await b.store.pull(ref);
    const pullMs = performance.now() - t;
    t = performance.now();
    await b.store.lowerDirs(ref);
    const unpackMs = performance.now() - t;
    expect(pulled.id).toBe(made.id);
    expect(pulled.downloadedBytes).toBeGreaterThan(8 * 1024 * 1024);
    console.log(`8 MiB image: push ${pushMs.toFixed(0)} ms, pull ${pullMs.toFixed(0)} ms (${(pulled.downloadedBytes / 1048576 / (pullMs / 1000)).toFixed(0)} MiB/s), unpack ${unpackMs.toFixed(0)} ms`);
  });

  it("pulls by digest: no tag is added, the digest resolves", async () => {
    const a = newStore();
    const ref = `${registry.host}/bydigest/app:1`;
    const made = await makeImage(a.store, ref);
    await a.store.push(ref);
    const b = newStore();
    const byDigest = `${registry.host}/bydigest/app@${made.manifestDigest}`;
    const pulled = await b.store.pull(byDigest);
    expect(pulled.id).toBe(made.id);
    expect((await b.store.images()).map((r) => r.repository)).toEqual(["<none>"]);
    expect((await b.store.resolve(byDigest)).id).toBe(made.id);
    await expect(b.store.resolve(ref)).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it("fetches nothing when pulled again: one HEAD of the manifest, no GET", async () => {
    const a = newStore();
    const made = await makeImage(a.store, `${registry.host}/again/app:1`);
    await a.store.push(`${registry.host}/again/app:1`);
    const p = await proxy();
    const ref = `${p.host}/again/app:1`;
    const b = newStore();
    const first = await b.store.pull(ref);
    expect(first.id).toBe(made.id);
    const blobGets = p.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    expect(blobGets).toHaveLength(3);
    p.requests.length = 0;
    const second = await b.store.pull(ref);
    expect(second).toMatchObject({ id: made.id, downloadedBlobs: 0, downloadedBytes: 0 });
    expect(p.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v2/", "HEAD /v2/again/app/manifests/1"]);
    // By digest, with the store up to date: no manifest GET either.
    p.requests.length = 0;
    await b.store.pull(`${p.host}/again/app@${made.manifestDigest}`);
    expect(p.requests.filter((r) => r.method !== "GET" || r.path !== "/v2/")).toEqual([]);
  });

  it("downloads only the layers the store lacks", async () => {
    const a = newStore();
    const shared = tarOf([{ path: "shared", body: "S" }]);
    const one = await imageOf(a.store, [shared], [`${registry.host}/partial/one:1`]);
    const two = await imageOf(a.store, [shared, tarOf([{ path: "own", body: "O" }])], [`${registry.host}/partial/two:1`]);
    await a.store.push(`${registry.host}/partial/one:1`);
    await a.store.push(`${registry.host}/partial/two:1`);
    const b = newStore();
    await b.store.pull(`${registry.host}/partial/one:1`);
    const events: TransferProgress[] = [];
    const pulled = await b.store.pull(`${registry.host}/partial/two:1`, { onProgress: (e) => events.push(e) });
    expect(pulled.id).toBe(two.id);
    expect(events.filter((e) => e.kind === "layer" && e.status === "exists").map((e) => e.digest)).toEqual([one.layers[0]?.digest]);
    expect(events.filter((e) => e.kind === "layer" && e.status === "downloaded").map((e) => e.digest)).toEqual([two.layers[1]?.digest]);
  });
});

describe("push", () => {
  it("mounts blobs from another repository of the same registry, and skips what the repository holds", async () => {
    const a = newStore();
    const src = `${registry.host}/mount/source:1`;
    const made = await makeImage(a.store, src);
    await a.store.push(src);
    const dst = `${registry.host}/mount/target:1`;
    await a.store.tag(src, dst);
    const mounted = await a.store.push(dst);
    expect(mounted).toMatchObject({ manifestDigest: made.manifestDigest, mountedBlobs: 3, uploadedBlobs: 0, uploadedBytes: 0 });
    const again = await a.store.push(dst);
    expect(again).toMatchObject({ existingBlobs: 3, uploadedBlobs: 0, mountedBlobs: 0 });
    const b = newStore();
    expect((await b.store.pull(dst)).id).toBe(made.id);
  });

  it("refuses an image the store lacks, before any request", async () => {
    const a = newStore();
    await expect(a.store.push(`${registry.host}/nothing/here:1`)).rejects.toBeInstanceOf(ImageNotFoundError);
  });
});

describe("multi-platform index", () => {
  it("picks the manifest of the platform asked for (default linux/amd64), skipping attestations", async () => {
    const a = newStore();
    const layer = await putLayer(a.store, tarOf([{ path: "arch", body: "common" }]));
    const imgs: Record<string, { id: Digest; manifestDigest: Digest }> = {};
    for (const [arch, variant] of [
      ["amd64", undefined],
      ["arm64", "v8"],
      ["arm", "v7"],
    ] as const) {
      imgs[arch] = await a.store.writeImage({ config: { architecture: arch, os: "linux", ...(variant ? { variant } : {}), config: { Env: [`ARCH=${arch}`] } }, layers: [layer] });
    }
    const repo = `${registry.host}/multi/app`;
    const client = new RegistryClient(registry.host);
    for (const arch of Object.keys(imgs)) {
      await a.store.tag(imgs[arch]?.id as string, `${repo}:${arch}`);
      await a.store.push(`${repo}:${arch}`);
    }
    const desc = async (arch: string): Promise<{ mediaType: string; digest: Digest; size: number }> => {
      const d = imgs[arch]?.manifestDigest as Digest;
      return { mediaType: MediaType.ociManifest, digest: d, size: (await a.store.readBlob(d)).length };
    };
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        { ...(await desc("arm")), platform: { os: "linux", architecture: "arm", variant: "v7" } },
        { ...(await desc("arm64")), platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        { ...(await desc("amd64")), platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
        { ...(await desc("amd64")), platform: { os: "linux", architecture: "amd64" } },
      ],
    };
    const indexBytes = Buffer.from(JSON.stringify(index));
    const indexDigest = await client.putManifest("multi/app", "1", indexBytes, MediaType.ociIndex, "push index");
    expect(indexDigest).toBe(sha256(indexBytes));

    const b = newStore();
    const amd = await b.store.pull(`${repo}:1`);
    expect(amd).toMatchObject({ id: imgs.amd64?.id, manifestDigest: imgs.amd64?.manifestDigest, indexDigest, platform: "linux/amd64" });
    const arm = await b.store.pull(`${repo}:1`, { platform: "linux/arm64" });
    expect(arm).toMatchObject({ id: imgs.arm64?.id, platform: "linux/arm64/v8" });
    expect((await b.store.inspect(`${repo}:1`)).architecture).toBe("arm64");
    const v7 = await b.store.pull(`${repo}@${indexDigest}`, { platform: "linux/arm/v7" });
    expect(v7.id).toBe(imgs.arm?.id);
    const err = await b.store.pull(`${repo}:1`, { platform: "linux/s390x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformNotFoundError);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_NOT_FOUND", available: ["linux/arm/v7", "linux/arm64/v8", "linux/amd64"] });
    // The index was kept, so a digest reference to it resolves without the registry.
    const local = await b.store.ensure(`${repo}@${indexDigest}`, { policy: "never", platform: "linux/arm64" });
    expect(local.id).toBe(imgs.arm64?.id);
  });
});

describe("Docker media types", () => {
  it("pulls a Docker v2 schema 2 manifest and a Docker manifest list", async () => {
    const a = newStore();
    const repo = `${registry.host}/dockertypes/app`;
    const made = await makeImage(a.store, `${repo}:oci`);
    await a.store.push(`${repo}:oci`);
    const image = await a.store.resolve(`${repo}:oci`);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { ...image.manifest.config, mediaType: MediaType.dockerConfig },
        layers: image.manifest.layers.map((l) => ({ ...l, mediaType: MediaType.dockerLayerGzip })),
      }),
    );
    const client = new RegistryClient(registry.host);
    const manifestDigest = await client.putManifest("dockertypes/app", "v2", manifest, MediaType.dockerManifest, "push docker manifest");
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifestList,
        manifests: [{ mediaType: MediaType.dockerManifest, digest: manifestDigest, size: manifest.length, platform: { os: "linux", architecture: "amd64" } }],
      }),
    );
    const listDigest = await client.putManifest("dockertypes/app", "list", list, MediaType.dockerManifestList, "push docker manifest list");
    const b = newStore();
    expect(await b.store.pull(`${repo}:v2`)).toMatchObject({ id: made.id, manifestDigest });
    expect(await b.store.pull(`${repo}:list`, { platform: "linux/amd64" })).toMatchObject({ id: made.id, manifestDigest, indexDigest: listDigest });
    expect((await b.store.readBlob(manifestDigest)).equals(manifest)).toBe(true);
    // And back: the Docker manifest goes up with its own media type and bytes.
    const pushed = await b.store.push(`${repo}:list`.replace(":list", ":again"), {}).catch((e: unknown) => e);
    expect(pushed).toBeInstanceOf(ImageNotFoundError);
    await b.store.tag(`${repo}:v2`, `${repo}:again`);
    expect((await b.store.push(`${repo}:again`)).manifestDigest).toBe(manifestDigest);
    expect((await client.getManifest("dockertypes/app", "again", "check")).mediaType).toBe(MediaType.dockerManifest);
  });
});

describe("redirects and mirrors", () => {
  it("follows blob redirects to another origin", async () => {
    const a = newStore();
    const made = await makeImage(a.store, `${registry.host}/redirect/app:1`);
    await a.store.push(`${registry.host}/redirect/app:1`);
    const p = await proxy({ redirectBlobs: true });
    const b = newStore();
    const pulled = await b.store.pull(`${p.host}/redirect/app:1`);
    expect(pulled.id).toBe(made.id);
    expect(p.storage.map((r) => r.method)).toEqual(["GET", "GET", "GET"]);
    await b.store.lowerDirs(`${p.host}/redirect/app:1`);
  });

  it("pulls docker.io names through a mirror (BENTO_REGISTRY_MIRRORS)", async () => {
    const a = newStore();
    // A mirror holds docker.io's repositories under the same names: library/<name>.
    const made = await makeImage(a.store, `${registry.host}/library/bento-mirror-test:1`);
    await a.store.push(`${registry.host}/library/bento-mirror-test:1`);
    const cfg = readConfig({ ...process.env, BENTO_REGISTRY_MIRRORS: `http://${registry.host}` });
    const b = newStore();
    const pulled = await pullImage(b.store, "bento-mirror-test:1", {}, cfg);
    expect(pulled).toMatchObject({ id: made.id, reference: "docker.io/library/bento-mirror-test:1", source: `http://${registry.host}` });
    expect((await b.store.inspect("bento-mirror-test:1")).repoTags).toEqual(["bento-mirror-test:1"]);
  });
});

describe("pull policies (store.ensure)", () => {
  it("never: the store only; missing: pull once; always: ask the registry each time", async () => {
    const a = newStore();
    const made = await makeImage(a.store, `${registry.host}/policy/app:1`);
    await a.store.push(`${registry.host}/policy/app:1`);
    const p = await proxy();
    const ref = `${p.host}/policy/app:1`;
    const b = newStore();
    const cfg = readConfig(process.env);
    const never = await ensureImage(b.store, ref, { policy: "never" }, cfg).catch((e: unknown) => e);
    expect(never).toBeInstanceOf(PullForbiddenError);
    expect(never).toBeInstanceOf(ImageNotFoundError);
    expect((never as Error).message).toContain("BENTO_PULL_POLICY");
    expect(p.requests).toEqual([]);

    const [one, two] = await Promise.all([ensureImage(b.store, ref, { policy: "missing" }, cfg), ensureImage(b.store, ref, { policy: "missing" }, cfg)]);
    expect(one.id).toBe(made.id);
    expect(two.id).toBe(made.id);
    expect(p.requests.filter((r) => r.path.includes("/manifests/"))).toHaveLength(2); // one pull: HEAD + GET
    p.requests.length = 0;
    expect((await ensureImage(b.store, ref, { policy: "missing" }, cfg)).tags).toEqual([ref]);
    expect(p.requests).toEqual([]);
    expect((await ensureImage(b.store, ref, { policy: "never" }, cfg)).id).toBe(made.id);
    await ensureImage(b.store, ref, { policy: "always" }, cfg);
    expect(p.requests.map((r) => r.method)).toEqual(["GET", "HEAD"]);
    expect((await ensureImage(b.store, made.id, { policy: "always" }, cfg)).id).toBe(made.id);
  });

  it("reads BENTO_PULL_POLICY", () => {
    expect(readConfig({}).pullPolicy).toBe("missing");
    expect(readConfig({ BENTO_PULL_POLICY: "never" }).pullPolicy).toBe("never");
    expect(() => readConfig({ BENTO_PULL_POLICY: "sometimes" })).toThrow(/BENTO_PULL_POLICY: "sometimes".*always, missing or never/);
  });
});

describe("errors", () => {
  it("names the reference of an unknown tag or repository", async () => {
    const a = newStore();
    await makeImage(a.store, `${registry.host}/known/app:1`);
    await a.store.push(`${registry.host}/known/app:1`);
    const b = newStore();
    for (const ref of [`${registry.host}/known/app:nope`, `${registry.host}/unknown/app:1`]) {
      const err = await b.store.pull(ref).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ManifestUnknownError);
      expect(err).toMatchObject({ code: "ERR_MANIFEST_UNKNOWN", reference: ref });
      expect((err as Error).message).toContain(`"${ref}" not found`);
    }
    expect(await b.store.images()).toEqual([]);
  });

  it("says an unreachable registry is unreachable, with the URL and the cause", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const b = newStore();
    const err = await b.store.pull(`127.0.0.1:${port}/app:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryUnreachableError);
    expect(err).toMatchObject({ code: "ERR_REGISTRY_UNREACHABLE", host: `127.0.0.1:${port}`, causeCode: "ECONNREFUSED" });
    expect((err as Error).message).toContain(`http://127.0.0.1:${port}/v2/`);
    expect((err as Error).message).toContain("that the registry is running");
  });

  it("refuses a blob whose content does not match its digest, and stores nothing of it", async () => {
    const a = newStore();
    const ref = `${registry.host}/corrupt/app:1`;
    const made = await makeImage(a.store, ref);
    await a.store.push(ref);
    const big = (await a.store.resolve(ref)).layers[1] as { digest: Digest; size: number };
    const file = registryBlobPath(registry, big.digest);
    const original = readFileSync(file);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 10] = (corrupt[corrupt.length - 10] as number) ^ 0xff;
    writeFileSync(file, corrupt);
    cleanups.push(() => writeFileSync(file, original));
    const b = newStore();
    const err = await b.store.pull(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(err).toMatchObject({ code: "ERR_DIGEST_MISMATCH", expected: big.digest });
    expect(await b.store.hasBlob(big.digest)).toBe(false);
    expect(await b.store.images()).toEqual([]);
    await expectNoLeaks(b.root);
    expect(made.id).toBeDefined();
  });
});
