/**
 * The CI job that fills the registry build cache: builds every image the suite builds in code
 * (suite-images.ts) once, writing the cache that BENTO_CACHE_TO names, so the shards, started
 * with BENTO_CACHE_FROM set to the same reference, take every step from it instead of rebuilding.
 *
 *   BENTO_CACHE_TO=registry.example.com/ci/suite:buildcache npx tsx examples/ci/prebuild.ts
 *
 * It fails (exit status 1) when the cache could not be written, so the pipeline shows it; a shard
 * that cannot read the cache only warns and builds.
 */
import type { BuildProgressEvent } from "../../src/index.js";
import { suiteImages } from "./suite-images.js";

if (process.env.BENTO_CACHE_TO === undefined || process.env.BENTO_CACHE_TO === "") {
  console.error("prebuild: set BENTO_CACHE_TO to the registry build cache to write, e.g. registry.example.com/ci/suite:buildcache");
  process.exit(2);
}

const show = (name: string) => (e: BuildProgressEvent) => {
  if (e.type === "step") console.log(`[${name}] ${e.step}/${e.total} ${e.cached ? "CACHED " : ""}${e.instruction.split("\n")[0]}`);
  if (e.type === "warning") console.error(`[${name}] warning: ${e.message}`);
};

let failed = false;
for (const [name, image] of Object.entries(suiteImages)) {
  const { id, cache } = await image.build({ onProgress: show(name) });
  const written = cache?.export;
  if (written === undefined) failed = true;
  console.log(`[${name}] ${id}: ${written === undefined ? "cache NOT written" : `${written.steps} steps in ${written.ref}, ${written.uploadedBytes} bytes uploaded`}`);
}
process.exit(failed ? 1 : 0);
