import { testRoot } from "../setup-env.js";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import "../../../src/builder/index.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, makeContext, progress, runImage, summary } from "./helpers.js";

afterEach(() => expectNoLeaks());

function appImage(rootfs: string): Image {
  return Image.fromRootfs(rootfs)
    .arg("VERSION", "1")
    .env("MODE", "test")
    .workdir("/app")
    .copy("a.txt", "./")
    .run("cat a.txt > copy.txt && echo v$VERSION > version.txt")
    .run("echo second > second.txt")
    .cmd(["cat", "/app/copy.txt", "/app/version.txt", "/app/second.txt"]);
}

describe(`build cache`, () => {
  it("hits every step on a rebuild, gives the same image id, and a miss invalidates every later step", async () => {
    // Containers run images of the default store (this file's BENTO_HOME).
    const store = Store.default();
    const context = makeContext({ "a.txt": "one\n" });
    const image = appImage(busyboxRootfs());

    const first = progress();
    const built = await image.build({ context, store, tag: "cache:1", onProgress: first.onProgress });
    expect(first.steps().every((s) => s.total === 8)).toBe(true);
    expect(first.steps().map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const again = progress();
    const rebuilt = await image.build({ context, store, tag: "cache:1", onProgress: again.onProgress });
    expect(rebuilt.id).toBe(built.id);
    expect(again.steps().every((s) => s.cached)).toBe(true);
    expect(again.events.at(-1)).toMatchObject({ type: "image", id: built.id, cachedSteps: 8, total: 8 });

    // A changed file: the COPY misses and says which file; every later step runs again.
    writeFileSync(join(context, "a.txt"), "two\n");
    const changed = progress();
    const afterChange = await image.build({ context, store, onProgress: changed.onProgress });
    expect(afterChange.id).not.toBe(built.id);
    expect(summary(changed.steps())).toEqual([
      "CACHED FROM " + busyboxRootfs() + " (root filesystem directory)",
      "CACHED ARG VERSION=1",
      "CACHED ENV MODE=test",
      "CACHED WORKDIR /app",
      "inputs-changed COPY a.txt ./",
      "parent-rebuilt RUN cat a.txt > copy.txt && echo v$VERSION > version.txt",
      "parent-rebuilt RUN echo second > second.txt",
      'parent-rebuilt CMD ["cat","/app/copy.txt","/app/version.txt","/app/second.txt"]',
    ]);
    expect(changed.steps()[4]?.reason).toBe("files changed: a.txt");
    expect(changed.steps()[5]?.reason).toMatch(/step 5 was not taken from the cache/);
    expect((await runImage(Image.from(afterChange.id))).stdout).toBe("two\nv1\nsecond\n");

    // Back to the first content: everything comes from the cache again, with the first image id.
    writeFileSync(join(context, "a.txt"), "one\n");
    const back = progress();
    expect((await image.build({ context, store, onProgress: back.onProgress })).id).toBe(built.id);
    expect(back.steps().every((s) => s.cached)).toBe(true);
  });

  it("reruns from the first RUN that sees a changed build arg, and names the arg", async () => {
    const store = Store.default();
    const context = makeContext({ "a.txt": "args\n" });
    const image = appImage(busyboxRootfs());
    await image.build({ context, store });
    const p = progress();
    const built = await image.build({ context, store, buildArgs: { VERSION: "2" }, onProgress: p.onProgress });
    const steps = p.steps();
    // As Docker: the ARG line itself is no miss; the first RUN (which gets ARGs as env) is.
    expect(steps.slice(0, 5).every((s) => s.cached)).toBe(true);
    expect(steps[5]).toMatchObject({ cached: false, cause: "inputs-changed", reason: "build args or env changed: VERSION" });
    expect(steps[6]).toMatchObject({ cached: false, cause: "parent-rebuilt" });
    expect((await runImage(Image.from(built.id))).stdout).toBe("args\nv2\nsecond\n");
  });

  it("says when the instruction changed, and noCache reruns everything with the reason", async () => {
    const store = Store.open(join(testRoot, "store-cache-instruction"));
    const base = Image.fromRootfs(busyboxRootfs()).env("A", "1");
    await base.run("echo one > /x").build({ store });
    const p = progress();
    await base.run("echo two > /x").build({ store, onProgress: p.onProgress });
    expect(p.steps()[2]).toMatchObject({ cached: false, cause: "instruction-changed" });
    expect(p.steps()[2]?.reason).toContain('"RUN echo one > /x"');

    const n = progress();
    const image = base.run("echo two > /x");
    const cached = await image.build({ store });
    const rebuilt = await image.build({ store, noCache: true, onProgress: n.onProgress });
    expect(
      n
        .steps()
        .slice(1)
        .every((s) => !s.cached && s.cause === "no-cache"),
    ).toBe(true);
    expect(rebuilt.id).not.toBe(cached.id);
    // The rebuilt records replace the old ones: the next build hits them.
    expect((await image.build({ store })).id).toBe(rebuilt.id);
  });

  it("re-imports a root filesystem whose tree changed, and with pull; the same tree keeps its image id", async () => {
    const store = Store.open(join(testRoot, "store-cache-rootfs"));
    const rootfs = join(testRoot, "rootfs-copy");
    rmSync(rootfs, { recursive: true, force: true });
    const { execFileSync } = await import("node:child_process");
    execFileSync("cp", ["-a", busyboxRootfs(), rootfs]);
    const image = Image.fromRootfs(rootfs).run("cat /marker 2>/dev/null || echo none");
    const first = await image.build({ store });

    const pulled = progress();
    expect((await image.build({ store, pull: true, onProgress: pulled.onProgress })).id).toBe(first.id);
    expect(pulled.steps()[0]).toMatchObject({ cached: false, cause: "pull" });
    expect(pulled.steps()[1]).toMatchObject({ cached: true });

    writeFileSync(join(rootfs, "marker"), "changed\n");
    const changed = progress();
    const second = await image.build({ store, onProgress: changed.onProgress });
    expect(changed.steps()[0]).toMatchObject({ cached: false, cause: "new" });
    expect(changed.steps()[1]).toMatchObject({ cached: false, cause: "new" });
    expect(second.id).not.toBe(first.id);
  });

  it("rebuilds a step whose cached layer was pruned from the store", async () => {
    const store = Store.open(join(testRoot, "store-cache-pruned"));
    const image = Image.fromRootfs(busyboxRootfs()).run("echo data > /data.txt");
    const built = await image.build({ store });
    const runLayer = built.layers.at(-1);
    expect(runLayer).toBeDefined();
    rmSync(store.blobPath(runLayer!.digest as `sha256:${string}`));
    const p = progress();
    await image.build({ store, onProgress: p.onProgress });
    expect(p.steps()[1]).toMatchObject({ cached: false, cause: "layer-missing" });
  });
});
