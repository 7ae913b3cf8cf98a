/**
 * The Postgres module's image built from a Debian root filesystem (`postgresImageFromDebian`),
 * side by side: a cold build in an empty store, against a build in another empty store that takes
 * every step from a registry build cache (a local docker-registry on 127.0.0.1), as a CI shard
 * would after one job wrote the cache. Also the export itself, and the bytes each side moved.
 * Run once each: the cold build takes about a minute and downloads Debian packages.
 *
 * Run alone with `npx tsx bench/build-registry-cache.ts`; `npm run bench` calls
 * {@link benchRegistryCache}. Both use temporary stores and remove them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import "../src/builder/index.js";
import { Image } from "../src/image/image.js";
import { postgresImageFromDebian } from "../src/modules/postgres.js";
import { Store } from "../src/registry/store.js";
import { debianRootfs } from "../test/integration/builder/debian-rootfs.js";
import { startRegistry } from "../test/integration/registry/registry-server.js";

/** One measured build. */
export interface RegistryCacheRow {
  name: string;
  ms: number;
  /** Steps taken from a cache, of all steps. */
  cachedSteps: string;
  /** Bytes downloaded from the registry cache, or uploaded to it. */
  registryBytes: number;
}

/**
 * Builds the Postgres image cold, writes its cache, then builds it from the cache in an empty store.
 *
 * @example
 * ```ts
 * for (const r of await benchRegistryCache()) console.log(r.name, r.ms, r.registryBytes);
 * ```
 */
export async function benchRegistryCache(): Promise<RegistryCacheRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bento-bench-regcache-"));
  const registry = await startRegistry();
  const rows: RegistryCacheRow[] = [];
  try {
    const image = postgresImageFromDebian(Image.fromRootfs(await debianRootfs()));
    const ref = `${registry.host}/bench/postgres:buildcache`;
    const counted = (): { onProgress: (e: { type: string; cached?: boolean }) => void; text(): string } => {
      let cached = 0;
      let total = 0;
      return { onProgress: (e) => void (e.type === "step" && (total++, e.cached && cached++)), text: () => `${cached}/${total}` };
    };

    const cold = Store.open(join(dir, "cold"));
    const coldSteps = counted();
    let start = performance.now();
    const built = await image.build({ store: cold, cacheFrom: false, cacheTo: false, onProgress: coldSteps.onProgress });
    rows.push({ name: "postgres image from Debian, cold build in an empty store", ms: performance.now() - start, cachedSteps: coldSteps.text(), registryBytes: 0 });

    start = performance.now();
    const exported = await image.build({ store: cold, cacheFrom: false, cacheTo: ref });
    rows.push({ name: "same store, every step cached, writing the registry cache", ms: performance.now() - start, cachedSteps: "all", registryBytes: exported.cache?.export?.uploadedBytes ?? 0 });

    const empty = Store.open(join(dir, "empty"));
    const warmSteps = counted();
    start = performance.now();
    const fromCache = await image.build({ store: empty, cacheFrom: ref, cacheTo: false, onProgress: warmSteps.onProgress });
    const ms = performance.now() - start;
    if (fromCache.id !== built.id) throw new Error(`the build from the registry cache gave ${fromCache.id}, not ${built.id}`);
    rows.push({ name: "postgres image in another empty store, from the registry cache", ms, cachedSteps: warmSteps.text(), registryBytes: fromCache.cache?.imports[0]?.downloadedBytes ?? 0 });
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const home = mkdtempSync(join(tmpdir(), "bento-bench-regcache-run-"));
  process.env.BENTO_RUNTIME_DIR ??= join(home, "run");
  try {
    for (const r of await benchRegistryCache()) console.log(`${r.name}: ${(r.ms / 1000).toFixed(1)} s, ${r.cachedSteps} steps cached, ${(r.registryBytes / 1e6).toFixed(1)} MB to/from the registry`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
