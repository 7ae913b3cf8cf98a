/**
 * The build executor: turns an image plan into an image in the store (DESIGN.md section 6).
 *
 * Only the stages the target needs are built, in order. Each stage starts from its base (scratch,
 * a root filesystem directory imported as a layer, an image in the store, an embedded plan, or an
 * earlier stage), runs the base's ONBUILD triggers, then its steps: config-only steps fold into
 * the config and make no layer; RUN runs in a build container on the parent's layers and its upper
 * directory becomes the layer; COPY and ADD lay their files out in a temp tree that becomes the
 * layer. Every step goes through the cache (cache.ts); progress events say which step, whether it
 * was cached and why it ran.
 */
import { InvalidOptionError } from "../errors.js";
import { ImageStore } from "../store/image-store.js";
import type { ImagePlan } from "../image/plan.js";
import type { BuildOptions, BuildResult } from "../image/build-engine.js";
import { cacheSettings } from "./cache-settings.js";
import { CacheLayerUnavailableError } from "./remote-cache.js";
import { BuildRun } from "./build-run.js";

/**
 * Builds a plan into the store and tags it.
 *
 * @example
 * ```ts
 * const result = await buildPlan(Image.fromRootfs(dir).run("echo hi > /hi").toPlan(), { tag: "hi:1" });
 * ```
 */
export async function buildPlan(plan: ImagePlan, options: BuildOptions = {}): Promise<BuildResult> {
  checkOptions(options);
  const first = new BuildRun(plan, options);
  try {
    return await first.run();
  } catch (e) {
    if (!(e instanceof CacheLayerUnavailableError)) throw e;
    // What the first attempt built is in the local cache; the rest runs again.
    const again = new BuildRun(plan, { ...options, cacheFrom: false });
    again.warnings.push(...first.warnings);
    again.warn(`${e.message}; building again without the registry caches`);
    return again.run();
  }
}

function checkOptions(options: BuildOptions): void {
  if (typeof options !== "object" || options === null) throw new InvalidOptionError("build", "expected an options object");
  const tags = options.tag === undefined ? [] : Array.isArray(options.tag) ? options.tag : [options.tag];
  for (const tag of tags) if (typeof tag !== "string" || tag === "") throw new InvalidOptionError("build.tag", 'expected a tag such as "myapp:test"');
  if (options.context !== undefined && (typeof options.context !== "string" || options.context === "")) throw new InvalidOptionError("build.context", "expected a directory path");
  for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
    if (typeof value !== "string") throw new InvalidOptionError(`build.buildArgs.${key}`, "expected a string");
  }
  if (options.network !== undefined && !(["default", "host", "none"] as unknown[]).includes(options.network)) {
    throw new InvalidOptionError("build.network", `${JSON.stringify(options.network)} is not a build network; use "default" (own namespace, outbound access), "host" or "none"`);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new InvalidOptionError("build.onProgress", "expected a function");
  if (options.store !== undefined && !(options.store instanceof ImageStore)) throw new InvalidOptionError("build.store", "expected a Store (Store.open(dir) or Store.default())");
  cacheSettings(options);
}
