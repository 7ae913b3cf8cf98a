/**
 * The registry build cache's settings: BENTO_CACHE_FROM / BENTO_CACHE_TO, the `--cache-to` syntax,
 * and the CacheExport selection of steps for the `min` and `max` modes.
 */
import { describe, expect, it } from "vitest";
import { parseCacheTarget, readConfig } from "../../../src/config.js";
import { hashParts, stateIdAfter } from "../../../src/builder/cache.js";
import { CacheExport } from "../../../src/builder/cache-export.js";
import type { CachedStep } from "../../../src/builder/remote-cache.js";

describe("BENTO_CACHE_FROM / BENTO_CACHE_TO", () => {
  it("reads a list of references and a target with its mode", () => {
    const cfg = readConfig({ BENTO_CACHE_FROM: "reg.example/app:cache, reg.example/base:cache", BENTO_CACHE_TO: "reg.example/app:cache,mode=max" });
    expect(cfg.cacheFrom).toEqual(["reg.example/app:cache", "reg.example/base:cache"]);
    expect(cfg.cacheTo).toEqual({ ref: "reg.example/app:cache", mode: "max" });
    expect(readConfig({}).cacheTo).toBeUndefined();
    expect(readConfig({}).cacheFrom).toEqual([]);
  });

  it("takes buildx's spelling too", () => {
    expect(parseCacheTarget("type=registry,ref=reg.example/app:cache,mode=max", "--cache-to")).toEqual({ ref: "reg.example/app:cache", mode: "max" });
    expect(parseCacheTarget("reg.example/app:cache", "--cache-to")).toEqual({ ref: "reg.example/app:cache", mode: "min" });
  });

  it("names the setting and the fix for what it does not understand", () => {
    expect(() => readConfig({ BENTO_CACHE_TO: "reg.example/app:cache,mode=all" })).toThrow(
      'BENTO_CACHE_TO: "mode=all" is not understood; use a registry reference such as registry.example.com/app:buildcache, optionally followed by ,mode=max',
    );
    expect(() => parseCacheTarget("type=local,dest=/tmp", "--cache-to")).toThrow('--cache-to: "type=local" is not understood');
    expect(() => parseCacheTarget("mode=max", "--cache-to")).toThrow('--cache-to: no reference in "mode=max"');
  });
});

describe("CacheExport", () => {
  const layer = (n: number) => ({ digest: `sha256:${String(n).repeat(64)}` as const, diffId: `sha256:${String(n + 1).repeat(64)}` as const, size: 10, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" });
  const step = (key: string, parent: string, n?: number): CachedStep => ({ key, parent, instruction: `RUN ${key}`, inputs: {}, created: "2026-01-01T00:00:00Z", ...(n === undefined ? {} : { layer: layer(n) }) });

  it("min keeps the chain of the final state back to its root filesystem; max keeps every step", () => {
    const exported = new CacheExport();
    const base = layer(1);
    exported.noteRootfs({ hash: "tree", created: "2026-01-01T00:00:00Z", layer: base });
    const root = hashParts("rootfs", base.diffId);
    const other = step("a".repeat(64), root, 3); // another stage, on the same base
    const first = step("b".repeat(64), root, 5);
    const second = step("c".repeat(64), stateIdAfter(first.key, first.layer?.diffId));
    for (const s of [other, first, second]) exported.noteStep(s);
    const final = stateIdAfter(second.key, undefined);
    expect(exported.document(final, "min")).toMatchObject({ mode: "min", steps: [first, second], rootfs: [{ hash: "tree" }] });
    expect(exported.document(final, "max").steps).toEqual([other, first, second]);
  });
});
