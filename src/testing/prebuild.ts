/**
 * Builds images once, before the tests, from a vitest globalSetup: a cold build (a base to
 * import, packages to install) can take far longer than vitest's 5 s test timeout, and each
 * test's start then finds every step in the cache.
 */
import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import "../builder/index.js";
import "../registry/store.js"; // installs the registry into the build engine (FROM pulls, archives)
import type { BuildOptions, BuildResult } from "../builder/index.js";
import { Image } from "../image/image.js";

/**
 * Builds each image (one after the other, each step cached) and returns the results in the same
 * order. Call it in a globalSetup file: vitest gives globalSetup no timeout, so a cold build takes
 * as long as it needs there, and the tests' starts are cache hits.
 *
 * @example
 * ```ts
 * // test/global-setup.ts, named in vitest.config.ts: test: { globalSetup: ["test/global-setup.ts"] }
 * import { prebuild } from "bento/vitest/global-setup";
 * import { images } from "./images.js";
 * export async function setup() {
 *   await prebuild([images.api, images.worker], { onProgress: (e) => console.log(e) });
 * }
 * ```
 */
export async function prebuild(images: readonly Image[], options: Omit<BuildOptions, "tag"> = {}): Promise<BuildResult[]> {
  if (!Array.isArray(images)) throw new InvalidOptionError("prebuild images", "expected an array of Image");
  images.forEach((image, i) => {
    if (!(image instanceof Image)) throw new InvalidOptionError(`prebuild images[${i}]`, "expected an Image (Image.from(...), Image.fromRootfs(...), Image.fromDockerfile(...))");
  });
  const results: BuildResult[] = [];
  for (const [i, image] of images.entries()) {
    const t0 = performance.now();
    results.push(await image.build(options));
    debug("build", `prebuild ${i + 1}/${images.length}: ${results[i]!.id} in ${Math.round(performance.now() - t0)} ms`);
  }
  return results;
}
