/**
 * `store.ensure(ref)`: the image a build's FROM or a container needs, pulled or not according to
 * the pull policy (`BENTO_PULL_POLICY`, or the `policy` option): "missing" pulls what the store
 * lacks, "always" asks the registry each time (only new blobs move), "never" uses the store only.
 * Concurrent calls for the same image in one process share one pull.
 */
import { config as bentoConfig, type BentoConfig, type PullPolicy } from "../config.js";
import { isDigest } from "../store/digest.js";
import { InvalidOptionError } from "../errors.js";
import { ImageNotFoundError } from "../store/errors.js";
import { formatReference, parseReference, repositoryName, type Reference } from "../store/reference.js";
import type { ImageStore } from "../store/image-store.js";
import type { ImageIndex, Platform, ResolvedImage } from "../store/types.js";
import { PullForbiddenError } from "./errors.js";
import { documentType, formatPlatform, parsePlatform, selectManifest } from "./platform-match.js";
import type { ProgressListener } from "./progress.js";

/** Options for {@link Store.ensure}. */
export interface EnsureOptions {
  /** Overrides `BENTO_PULL_POLICY` (default "missing"). */
  policy?: PullPolicy;
  /** The platform for a multi-platform image. Default: Linux on this machine's architecture. */
  platform?: string | Platform;
  /** Called as blobs are downloaded, when a pull happens. */
  onProgress?: ProgressListener;
  /** Aborts a pull. */
  signal?: AbortSignal;
}

const inFlight = new Map<string, Promise<ResolvedImage>>();

/**
 * Returns the image `ref` names, pulling it first if the policy says so. `ref` may also be an
 * image id or id prefix, which is only looked up in the store.
 *
 * @example
 * ```ts
 * const image = await ensureImage(store, "alpine:3.20"); // image.layers, image.config
 * ```
 */
export async function ensureImage(store: ImageStore, ref: string, options: EnsureOptions = {}, cfg: BentoConfig = bentoConfig()): Promise<ResolvedImage> {
  const policy = options.policy ?? cfg.pullPolicy;
  if (policy !== "always" && policy !== "missing" && policy !== "never") {
    throw new InvalidOptionError("policy", `"${String(policy)}" is not a pull policy; use "always", "missing" or "never"`);
  }
  const platform = parsePlatform(options.platform);
  let parsed: Reference | undefined;
  if (!isDigest(ref) && !/^[a-f0-9]{4,64}$/.test(ref)) parsed = parseReference(ref);
  if (parsed === undefined) return store.resolve(ref); // an image id: nothing to pull
  if (policy !== "always") {
    const local = await resolveLocal(store, ref, parsed, platform);
    if (local !== undefined) return local;
    if (policy === "never") throw new PullForbiddenError(ref);
  }
  const key = `${store.root}\0${formatReference(parsed)}\0${formatPlatform(platform)}\0${policy}`;
  let pending = inFlight.get(key);
  if (pending === undefined) {
    pending = (async () => {
      // The registry client loads with the first pull: a start from a stored image never needs it.
      const { pullImage } = await import("./pull.js");
      const pulled = await pullImage(store, ref, { platform, onProgress: options.onProgress, signal: options.signal }, cfg);
      return store.resolve(`${repositoryName(parsed)}@${pulled.manifestDigest}`);
    })();
    inFlight.set(key, pending);
    const forget = (): void => {
      inFlight.delete(key);
    };
    pending.then(forget, forget);
  }
  return pending;
}

/**
 * The stored image `ref` names, or undefined. A digest reference to an index the store kept
 * from an earlier pull finds the platform's manifest through it.
 */
async function resolveLocal(store: ImageStore, ref: string, parsed: Reference, platform: Platform): Promise<ResolvedImage | undefined> {
  try {
    return await store.resolve(ref);
  } catch (e) {
    if (!(e instanceof ImageNotFoundError)) throw e;
  }
  if (parsed.digest === undefined || !(await store.hasBlob(parsed.digest))) return undefined;
  const bytes = await store.readBlob(parsed.digest);
  if (!/index|manifest\.list/.test(documentType(bytes))) return undefined;
  const entry = selectManifest(JSON.parse(bytes.toString("utf8")) as ImageIndex, platform);
  if (entry === undefined) return undefined;
  try {
    return await store.resolve(`${repositoryName(parsed)}@${entry.digest}`);
  } catch (e) {
    if (e instanceof ImageNotFoundError) return undefined;
    throw e;
  }
}
