/**
 * The registry build cache against a real registry (Debian's docker-registry) on 127.0.0.1, with
 * two stores standing for two machines: a build with `cacheTo` in the first, the same plan with
 * `cacheFrom` in the second (empty) store gets every step from the cache and the same image id,
 * downloading only the layers the image holds (min) or also those a step that runs needs (max).
 * Also: misses explained against the other machine's builds, concurrent writers, unreachable,
 * corrupt and incomplete caches (a warning, and the build goes on), and bad options.
 */
import "../setup-env.js";
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../../src/errors.js";
import "../../../src/builder/index.js";
import type { BuildProgressEvent, BuildStepEvent } from "../../../src/builder/index.js";
import { Image } from "../../../src/image/image.js";
import { BUILD_CACHE_ARTIFACT_TYPE, BUILD_CACHE_CONFIG_TYPE } from "../../../src/registry/build-cache.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { sha256 } from "../../../src/store/digest.js";
import type { Store } from "../../../src/registry/store.js";
import { MediaType } from "../../../src/store/types.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks as expectNoBuildLeaks, makeContext, summary } from "../builder/helpers.js";
import { expectNoLeaks as expectNoStoreLeaks, tempStore } from "../store/helpers.js";
import { registriesRunning, registryBlobPath, startRegistry, type RegistryServer } from "./registry-server.js";

let registry: RegistryServer;
const cleanups: Array<() => unknown> = [];
const stores: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  expect(registriesRunning()).toBe(0);
});
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
  expectNoBuildLeaks();
  for (const root of stores.splice(0)) {
    await expectNoStoreLeaks(root);
    rmSync(root, { recursive: true, force: true });
  }
});

/** A store standing for one machine (its own BENTO_HOME). */
function machine(): Store {
  const s = tempStore();
  stores.push(s.root);
  return s.store;
}

function events(): { onProgress: (e: BuildProgressEvent) => void; steps(): BuildStepEvent[]; warnings(): string[] } {
  const all: BuildProgressEvent[] = [];
  return {
    onProgress: (e) => all.push(e),
    steps: () => all.filter((e): e is BuildStepEvent => e.type === "step"),
    warnings: () => all.flatMap((e) => (e.type === "warning" ? [e.message] : [])),
  };
}

/** FROM, ENV, WORKDIR (a layer: busybox has no /app), COPY, two RUN (one ~200 kB), CMD. */
function appImage(): Image {
  return Image.fromRootfs(busyboxRootfs()).env("MODE", "test").workdir("/app").copy("a.txt", "./").run("cat a.txt > copy.txt && head -c 200000 /dev/urandom > random.bin").run("echo second > second.txt").cmd(["cat", "/app/copy.txt"]);
}

function cacheRef(name: string): string {
  return `${registry.host}/cache/${name}:buildcache`;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe(`registry build cache`, () => {
  it("min: an empty store gets every step from the cache, the same image id, and downloads only the image's layers", async () => {
    const context = makeContext({ "a.txt": "one\n" });
    const ref = cacheRef("min");
    const first = machine();
    const built = await appImage().build({ store: first, context, cacheTo: ref });
    expect(built.cache?.warnings).toEqual([]);
    expect(built.cache?.export).toMatchObject({ ref, mode: "min", steps: 6, layers: built.layers.length, uploadedBlobs: built.layers.length + 1 });

    const second = machine();
    const progress = events();
    const again = await appImage().build({ store: second, context, cacheFrom: ref, onProgress: progress.onProgress });
    expect(progress.warnings()).toEqual([]);
    expect(progress.steps().every((s) => s.cached)).toBe(true);
    expect(
      progress
        .steps()
        .slice(1)
        .every((s) => s.cacheRef === ref),
    ).toBe(true);
    expect(again.id).toBe(built.id);
    expect(again.manifestDigest).toBe(built.manifestDigest);

    const [imported] = again.cache?.imports ?? [];
    const layerBytes = built.layers.reduce((sum, l) => sum + l.size, 0);
    expect(imported).toMatchObject({ ref, steps: 6, hits: 6, downloadedBlobs: built.layers.length + 2 });
    expect([...(imported?.downloadedLayers ?? [])].sort()).toEqual(built.layers.map((l) => l.digest).sort());
    // The layers, plus the cache manifest and its document.
    expect(imported?.downloadedBytes).toBeGreaterThan(layerBytes);
    expect((imported?.downloadedBytes ?? 0) - layerBytes).toBeLessThan(16 * 1024);
    expect(await second.lowerDirs(again.id)).toHaveLength(built.layers.length);

    // The hits are now the second store's own records: no cache needed the next time.
    const local = events();
    await appImage().build({ store: second, context, cacheFrom: false, onProgress: local.onProgress });
    expect(local.steps().every((s) => s.cached && s.cacheRef === undefined)).toBe(true);
  });

  it("explains a miss against what the other machine built, and downloads only the layers the steps that run need", async () => {
    const context = makeContext({ "a.txt": "one\n" });
    const ref = cacheRef("explain");
    const first = machine();
    const built = await appImage().build({ store: first, context, cacheTo: ref });

    writeFileSync(join(context, "a.txt"), "two\n");
    const second = machine();
    const progress = events();
    const changed = await appImage().build({ store: second, context, cacheFrom: ref, onProgress: progress.onProgress });
    expect(changed.id).not.toBe(built.id);
    expect(summary(progress.steps()).slice(1)).toEqual([
      "CACHED ENV MODE=test",
      "CACHED WORKDIR /app",
      "inputs-changed COPY a.txt ./",
      "parent-rebuilt RUN cat a.txt > copy.txt && head -c 200000 /dev/urandom > random.bin",
      "parent-rebuilt RUN echo second > second.txt",
      'parent-rebuilt CMD ["cat","/app/copy.txt"]',
    ]);
    expect(progress.steps()[3]?.reason).toBe("files changed: a.txt");
    // The root filesystem and WORKDIR layers (the COPY runs on them); not the other machine's RUN layers.
    expect([...(changed.cache?.imports[0]?.downloadedLayers ?? [])].sort()).toEqual(
      built.layers
        .slice(0, 2)
        .map((l) => l.digest)
        .sort(),
    );
  });

  it("max keeps other stages' steps, min only the final image's; a step that runs downloads the layers it runs on", async () => {
    const context = makeContext({ "a.txt": "one\n" });
    const stage = Image.fromRootfs(busyboxRootfs()).run("head -c 300000 /dev/urandom > /big.bin && echo built > /out.txt");
    const final = (from: Image): Image => Image.fromRootfs(busyboxRootfs()).copy("/out.txt", "/out.txt", { from }).cmd(["cat", "/out.txt"]);
    const first = machine();
    const built = await final(stage).build({ store: first, context, cacheTo: { ref: cacheRef("max"), mode: "max" } });
    await final(stage).build({ store: first, context, cacheTo: { ref: cacheRef("min-stages"), mode: "min" } });

    // max: every step is a hit, the other stage's RUN too. Its layer is downloaded all the same:
    // the COPY's key holds the checksums of the files it copies from it.
    const second = machine();
    const max = events();
    const fromMax = await final(stage).build({ store: second, context, cacheFrom: cacheRef("max"), onProgress: max.onProgress });
    expect(max.steps().every((s) => s.cached)).toBe(true);
    expect(fromMax.id).toBe(built.id);
    expect(fromMax.cache?.imports[0]).toMatchObject({ steps: 3, hits: 3 });

    // min: the other stage is not in the cache, so it runs again (the cache knows only what the
    // final stage built on the same base, which the reason names).
    const third = machine();
    const min = events();
    await final(stage).build({ store: third, context, cacheFrom: cacheRef("min-stages"), onProgress: min.onProgress });
    expect(summary(min.steps()).filter((s) => s.includes("RUN"))).toEqual(["instruction-changed RUN head -c 300000 /dev/urandom > /big.bin && echo built > /out.txt"]);

    // A step that runs on the cached stage's state needs its layer: downloaded then.
    const fourth = machine();
    const more = events();
    const extended = await final(stage.run("echo more > /more.txt")).build({ store: fourth, context, cacheFrom: cacheRef("max"), onProgress: more.onProgress });
    expect(summary(more.steps()).filter((s) => s.includes("RUN"))).toEqual(["CACHED RUN head -c 300000 /dev/urandom > /big.bin && echo built > /out.txt", "new RUN echo more > /more.txt"]);
    const stageLayer = (await stage.build({ store: first, context })).layers[1];
    expect(extended.cache?.imports[0]?.downloadedLayers).toContain(stageLayer?.digest);
  });

  it("two machines writing the same cache at once leave a valid one", async () => {
    const context = makeContext({ "a.txt": "one\n" });
    const ref = cacheRef("race");
    const [a, b] = await Promise.all([appImage().build({ store: machine(), context, cacheTo: ref }), appImage().build({ store: machine(), context, cacheTo: ref })]);
    expect(a.cache?.warnings).toEqual([]);
    expect(b.cache?.warnings).toEqual([]);
    const progress = events();
    const third = await appImage().build({ store: machine(), context, cacheFrom: ref, onProgress: progress.onProgress });
    expect(progress.warnings()).toEqual([]);
    expect(progress.steps().every((s) => s.cached)).toBe(true);
    expect([a.id, b.id]).toContain(third.id);
  });

  describe("a cache that cannot be used: a warning naming it, and the build goes on", () => {
    async function expectBuildWithout(ref: string, pattern: RegExp): Promise<void> {
      const context = makeContext({ "a.txt": "one\n" });
      const progress = events();
      const result = await appImage().build({ store: machine(), context, cacheFrom: ref, onProgress: progress.onProgress });
      expect(progress.warnings()).toHaveLength(1);
      expect(progress.warnings()[0]).toContain(`registry build cache ${ref} not used`);
      expect(progress.warnings()[0]).toMatch(pattern);
      expect(result.cache?.imports).toEqual([]);
      expect(
        progress
          .steps()
          .slice(1)
          .every((s) => !s.cached),
      ).toBe(true);
    }

    it("an unreachable registry", async () => {
      await expectBuildWithout(`127.0.0.1:${await closedPort()}/app:cache`, /unreachable/);
    });

    it("nothing stored at the reference yet", async () => {
      await expectBuildWithout(cacheRef("never-written"), /nothing is stored there yet/);
    });

    it("an image where a cache was expected", async () => {
      const store = machine();
      const ref = `${registry.host}/cache/image:1`;
      await Image.fromRootfs(busyboxRootfs()).build({ store, tag: ref });
      await store.push(ref);
      await expectBuildWithout(ref, /not a bento build cache/);
    });

    it("a cache document that is not JSON", async () => {
      const client = new RegistryClient(registry.host);
      const document = Buffer.from("{ this is not json");
      const digest = sha256(document);
      await client.uploadBlob("cache/corrupt", { digest, size: document.length, open: () => Readable.from([document]) }, "test");
      const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: BUILD_CACHE_ARTIFACT_TYPE, config: { mediaType: BUILD_CACHE_CONFIG_TYPE, digest, size: document.length }, layers: [] };
      await client.putManifest("cache/corrupt", "buildcache", Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest, "test");
      await expectBuildWithout(cacheRef("corrupt"), /not valid JSON/);
    });

    it("a cache whose layer blob the registry lost", async () => {
      const ref = cacheRef("incomplete");
      const built = await appImage().build({ store: machine(), context: makeContext({ "a.txt": "one\n" }), cacheTo: ref });
      rmSync(registryBlobPath(registry, built.layers[3]?.digest as string));
      await expectBuildWithout(ref, /references 1 layer blob\(s\) the registry does not have/);
    });

    it("a layer the registry loses after the cache was checked: the build starts again without the cache", async () => {
      const ref = cacheRef("lost-later");
      const context = makeContext({ "a.txt": "one\n" });
      const built = await appImage().build({ store: machine(), context, cacheTo: ref });
      const lost = built.layers[4]?.digest as string;
      const progress = events();
      const result = await appImage().build({
        store: machine(),
        context,
        cacheFrom: ref,
        onProgress: (e) => {
          // The cache was read and checked; its layers are fetched at the end, for the image.
          if (e.type === "step" && e.cacheRef !== undefined) rmSync(registryBlobPath(registry, lost), { force: true });
          progress.onProgress(e);
        },
      });
      expect(progress.warnings()).toEqual([expect.stringMatching(new RegExp(`^registry build cache ${ref}: layer ${lost} could not be downloaded .*; building again without the registry caches$`))]);
      expect(result.cache?.warnings).toEqual(progress.warnings());
      expect(result.id).not.toBe(built.id);
      expect(
        progress
          .steps()
          .filter((s) => s.instruction.startsWith("RUN"))
          .map((s) => s.cached),
      ).toEqual([true, true, false, false]);
    });

    it("an unreachable registry for cacheTo: the image is built, the export is a warning", async () => {
      const ref = `127.0.0.1:${await closedPort()}/app:cache`;
      const progress = events();
      const result = await appImage().build({ store: machine(), context: makeContext({ "a.txt": "one\n" }), cacheTo: ref, onProgress: progress.onProgress });
      expect(result.id).toMatch(/^sha256:/);
      expect(result.cache?.export).toBeUndefined();
      expect(progress.warnings()).toEqual([expect.stringMatching(new RegExp(`^registry build cache ${ref} not written: .*unreachable`))]);
    });
  });

  it("rejects bad options before building anything", async () => {
    const store = machine();
    const build = (options: Parameters<Image["build"]>[0]): Promise<unknown> => appImage().build({ store, context: makeContext({ "a.txt": "one\n" }), ...options });
    await expect(build({ cacheTo: "Not A Reference" })).rejects.toThrow(InvalidOptionError);
    await expect(build({ cacheTo: "Not A Reference" })).rejects.toThrow(/build\.cacheTo: .*registry\.example\.com\/app:buildcache/);
    await expect(build({ cacheTo: { ref: cacheRef("x"), mode: "all" as "max" } })).rejects.toThrow(/build\.cacheTo\.mode: "all" is not a cache mode/);
    await expect(build({ cacheTo: `${registry.host}/app@sha256:${"0".repeat(64)}` })).rejects.toThrow(/names a digest; a cache is written under a tag/);
    await expect(build({ cacheFrom: [""] })).rejects.toThrow(/build\.cacheFrom: expected a reference/);
    expect(await store.images()).toEqual([]);
  });
});
