/**
 * `store.pull(ref)`: resolve the reference (HEAD, then GET only what the store lacks), choose the
 * platform's manifest from an index, fetch the config and the layers the store does not hold
 * (verifying digest and size while streaming into the store), then record the image with its
 * manifest and config bytes as they came, so the image id is the registry's config digest.
 */
import { config as bentoConfig, type BentoConfig } from "../config.js";
import { BentoError } from "../errors.js";
import type { Digest } from "../store/digest.js";
import { DigestMismatchError } from "../store/errors.js";
import { formatReference, parseReference, type Reference } from "../store/reference.js";
import type { ImageStore } from "../store/image-store.js";
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest, type LayerInfo, type OciImageConfig, type Platform } from "../store/types.js";
import { RegistryClient, type FetchedManifest } from "./client.js";
import { pullBaseUrls } from "./endpoint.js";
import { PlatformNotFoundError, RegistryError, RegistryUnreachableError } from "./errors.js";
import { documentType, formatPlatform, parsePlatform, platformsOf, selectManifest } from "./platform-match.js";
import { ByteCounter, emit, type ProgressListener, storeBlobFrom } from "./progress.js";

/** Options for {@link Store.pull}. */
export interface PullOptions {
  /** The platform to choose from a multi-platform image: `linux/arm64/v8` or an object. Default: Linux on this machine's architecture. */
  platform?: string | Platform;
  /** Called as blobs are checked, downloaded and verified. */
  onProgress?: ProgressListener;
  /** Aborts the pull; what was fully downloaded stays in the store. */
  signal?: AbortSignal;
}

/** What {@link Store.pull} did. */
export interface PullResult {
  /** The full reference: `docker.io/library/alpine:3.20`. */
  reference: string;
  /** The image id: the digest of its config, as the registry has it. */
  id: Digest;
  /** The digest of the image manifest stored. */
  manifestDigest: Digest;
  /** The digest of the index the reference named, for multi-platform images. */
  indexDigest: Digest | undefined;
  /** The platform chosen, such as `linux/amd64`. */
  platform: string;
  /** Layers, base first. */
  layers: LayerInfo[];
  /** Blobs (manifests, config, layers) downloaded: 0 when the store was up to date. */
  downloadedBlobs: number;
  /** Bytes downloaded. */
  downloadedBytes: number;
  /** The base URL the image came from (the registry, or a mirror). */
  source: string;
}

const DOWNLOAD_CONCURRENCY = 3;
const DOWNLOAD_ATTEMPTS = 3;
const RETRY_DELAY_MS = 200;
const LAYER_TYPES = new Set<string>([
  MediaType.ociLayer,
  MediaType.ociLayerGzip,
  MediaType.ociLayerZstd,
  MediaType.dockerLayer,
  MediaType.dockerLayerGzip,
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);

/**
 * Pulls an image into the store and tags it with the reference (not for digest references, as
 * Docker). Idempotent: blobs the store holds are not fetched again. Tries the domain's mirrors
 * (`BENTO_REGISTRY_MIRRORS`) first.
 *
 * @example
 * ```ts
 * const { id, downloadedBytes } = await pullImage(Store.default(), "alpine:3.20");
 * ```
 */
export async function pullImage(store: ImageStore, refText: string, options: PullOptions = {}, cfg: BentoConfig = bentoConfig()): Promise<PullResult> {
  const ref = parseReference(refText);
  const platform = parsePlatform(options.platform);
  const bases = pullBaseUrls(ref.domain, cfg);
  const failures: string[] = [];
  for (const [i, base] of bases.entries()) {
    // Aborted when one download fails, so the others stop instead of finishing in the background.
    const stop = new AbortController();
    const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
    const client = new RegistryClient(ref.domain, { config: cfg, baseUrl: base, signal });
    try {
      return await pullFrom(store, client, ref, platform, options.onProgress, signal, stop);
    } catch (e) {
      if (i === bases.length - 1 || options.signal?.aborted || !(e instanceof BentoError)) {
        if (failures.length > 0 && e instanceof Error) e.message += ` (mirrors failed first: ${failures.join("; ")})`;
        throw e;
      }
      failures.push(`${base}: ${e.message}`);
    }
  }
  throw new Error("unreachable");
}

async function pullFrom(store: ImageStore, client: RegistryClient, ref: Reference, platform: Platform, onProgress: ProgressListener | undefined, signal: AbortSignal, stop: AbortController): Promise<PullResult> {
  const full = formatReference(ref);
  const action = `pull ${full}`;
  const name = ref.path;
  let downloadedBlobs = 0;
  let downloadedBytes = 0;

  /** A manifest or index: from the store when it holds that digest, else from the registry. */
  const manifestOf = async (reference: string, known: Digest | undefined, kind: "index" | "manifest", expectedSize?: number): Promise<FetchedManifest> => {
    if (known !== undefined && (await store.hasBlob(known))) {
      const bytes = await store.readBlob(known);
      emit(onProgress, { reference: full, kind, digest: known, status: "exists", bytes: bytes.length, totalBytes: bytes.length });
      return { bytes, digest: known, mediaType: documentType(bytes) };
    }
    const fetched = await client.getManifest(name, reference, action);
    if (expectedSize !== undefined && fetched.bytes.length !== expectedSize) {
      throw new DigestMismatchError(`${action}: manifest ${fetched.digest}: size`, `${expectedSize} bytes`, `${fetched.bytes.length} bytes`);
    }
    downloadedBlobs++;
    downloadedBytes += fetched.bytes.length;
    emit(onProgress, { reference: full, kind, digest: fetched.digest, status: "downloaded", bytes: fetched.bytes.length, totalBytes: fetched.bytes.length });
    return fetched;
  };

  const reference = ref.digest ?? (ref.tag as string);
  const head = ref.digest === undefined ? await client.headManifest(name, reference, action) : undefined;
  let top = await manifestOf(reference, ref.digest ?? head?.digest, "manifest");
  let indexDigest: Digest | undefined;
  let chosen = formatPlatform(platform);
  if (isIndexType(top.mediaType)) {
    const index = parseJson<ImageIndex>(top.bytes, `${action}: index ${top.digest}`, client.host);
    const entry = selectManifest(index, platform);
    if (entry === undefined) throw new PlatformNotFoundError(full, formatPlatform(platform), platformsOf(index));
    await store.putBlob(top.bytes, { digest: top.digest });
    indexDigest = top.digest;
    if (entry.platform) chosen = formatPlatform(entry.platform);
    top = await manifestOf(entry.digest, entry.digest, "manifest", entry.size);
    if (isIndexType(top.mediaType)) throw new RegistryError(`${action}: the index entry for ${chosen} is another index; bento reads one level`, client.host);
  }
  const manifest = parseJson<ImageManifest>(top.bytes, `${action}: manifest ${top.digest}`, client.host);
  if (manifest.config === undefined || !Array.isArray(manifest.layers)) {
    throw new RegistryError(`${action}: manifest ${top.digest} has no config or layers`, client.host);
  }
  for (const layer of manifest.layers) {
    if (!LAYER_TYPES.has(layer.mediaType)) throw new RegistryError(`${action}: layer ${layer.digest} has media type "${layer.mediaType}", which is not an image layer (is this an artifact rather than an image?)`, client.host);
  }

  const fetchBlob = async (d: Descriptor, kind: "config" | "layer"): Promise<void> => {
    if (await store.hasBlob(d.digest)) {
      emit(onProgress, { reference: full, kind, digest: d.digest, status: "exists", bytes: d.size, totalBytes: d.size });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await client.openBlob(name, d.digest, d.size, action);
        const counter = new ByteCounter(
          d.size,
          (bytes) => emit(onProgress, { reference: full, kind, digest: d.digest, status: "downloading", bytes, totalBytes: d.size }),
          () => new DigestMismatchError(`${action}: blob ${d.digest}: size`, `${d.size} bytes`, "more"),
        );
        emit(onProgress, { reference: full, kind, digest: d.digest, status: "downloading", bytes: 0, totalBytes: d.size });
        await storeBlobFrom(store, body, counter, { digest: d.digest, size: d.size });
        downloadedBlobs++;
        downloadedBytes += d.size;
        emit(onProgress, { reference: full, kind, digest: d.digest, status: "downloaded", bytes: d.size, totalBytes: d.size });
        return;
      } catch (e) {
        if (!retryable(e) || attempt >= DOWNLOAD_ATTEMPTS || signal.aborted) {
          if (e instanceof BentoError || signal.aborted) throw e;
          throw new RegistryError(`${action}: downloading blob ${d.digest} from ${client.host} failed: ${(e as Error).message}`, client.host, undefined, { cause: e });
        }
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * attempt));
      }
    }
  };

  await fetchBlob(manifest.config, "config");
  const config = parseJson<OciImageConfig>(await store.readBlob(manifest.config.digest), `${action}: config ${manifest.config.digest}`, client.host);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new RegistryError(`${action}: the manifest lists ${manifest.layers.length} layers but the config ${manifest.config.digest} lists ${diffIds.length} diff ids; the image is malformed`, client.host);
  }
  const unique = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < unique.length && failure === undefined) {
      try {
        await fetchBlob(unique[next++] as Descriptor, "layer");
      } catch (e) {
        failure ??= { error: e };
        stop.abort();
      }
    }
  };
  // Every download settles (and removes its temp file) before the pull reports the first failure.
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, unique.length) }, worker));
  if (failure !== undefined) throw failure.error;

  await store.putBlob(top.bytes, { digest: top.digest });
  await store.addImage({ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length }, ref.digest === undefined ? [full] : []);
  return {
    reference: full,
    id: manifest.config.digest,
    manifestDigest: top.digest,
    indexDigest,
    platform: chosen,
    layers: manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i] as Digest, size: l.size, mediaType: l.mediaType })),
    downloadedBlobs,
    downloadedBytes,
    source: client.baseUrl,
  };
}

/** Network trouble and 5xx answers are worth another try; a bad digest, auth or a 4xx is not. */
function retryable(e: unknown): boolean {
  if (e instanceof RegistryUnreachableError) return true;
  if (e instanceof RegistryError) return (e.status ?? 0) >= 500;
  return !(e instanceof BentoError);
}

function isIndexType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

function parseJson<T>(bytes: Buffer, what: string, host: string): T {
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    return parsed as T;
  } catch (e) {
    throw new RegistryError(`${what} is not valid JSON: ${(e as Error).message}`, host, undefined, { cause: e });
  }
}
