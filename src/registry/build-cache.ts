/**
 * The registry build cache's transport: a cache is an OCI 1.1 artifact, an image manifest whose
 * `artifactType` and config media type are bento's own, whose config blob is the cache document
 * (builder/remote-cache.ts) and whose layers are the layer blobs the document's steps made.
 * Listing the layers in the manifest makes the registry keep them (and check that they exist when
 * the manifest is stored); any registry that stores OCI image manifests stores the cache.
 *
 * This follows BuildKit's registry cache with `image-manifest=true` (moby/buildkit
 * `cache/remotecache`: a manifest whose config is `application/vnd.buildkit.cacheconfig.v0` and
 * whose layers are the cached layers) and departs from its document: BuildKit's records form a
 * graph of LLB vertex digests and layer chains by index, because its cache keys are content
 * digests of the LLB graph; bento's keys are the Dockerfile-level keys of its local cache, so the
 * document is the local cache's records as they are (key, parent state, instruction, inputs,
 * created, layer), which also lets a machine explain a miss against what another one built.
 *
 * Writing: the layer blobs and the document go up first (content-addressed, so two writers
 * cannot damage each other's), the manifest last, so a reader never sees a manifest whose blobs
 * are not there yet. An export merges with the steps already at the reference (a suite's several
 * images can share one cache); of two concurrent writers the last manifest wins, and both are
 * valid. Reading: a manifest of another type, a document that does not parse, or a layer the
 * registry lacks makes the whole cache unusable (the caller warns and builds without it).
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { config as bentoConfig } from "../config.js";
import { BentoError } from "../errors.js";
import type { BuildCacheDocument, CachedRootfs, CachedStep, CacheExportReport, LoadedCache, RemoteCacheBackend } from "../builder/remote-cache.js";
import { isDigest, sha256, type Digest } from "../store/digest.js";
import { formatReference, parseReference, type Reference } from "../store/reference.js";
import type { ImageStore } from "../store/image-store.js";
import { MediaType, type LayerInfo } from "../store/types.js";
import { RegistryClient } from "./client.js";
import { repositoryScope } from "./endpoint.js";
import { ManifestUnknownError } from "./errors.js";
import { ByteCounter, storeBlobFrom } from "./progress.js";

/**
 * The `artifactType` of a bento build cache manifest.
 *
 * @example
 * ```ts
 * const { bytes } = await client.getManifest("app", "buildcache", "inspect");
 * JSON.parse(bytes.toString()).artifactType === BUILD_CACHE_ARTIFACT_TYPE; // true
 * ```
 */
export const BUILD_CACHE_ARTIFACT_TYPE = "application/vnd.bento.build-cache.v1";

/**
 * The media type of a build cache manifest's config blob: the cache document (JSON).
 *
 * @example
 * ```ts
 * manifest.config.mediaType === BUILD_CACHE_CONFIG_TYPE; // for a bento build cache
 * ```
 */
export const BUILD_CACHE_CONFIG_TYPE = "application/vnd.bento.build-cache.config.v1+json";

const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
const MAX_STEPS = 2000;
const MAX_ROOTFS = 64;
const CONCURRENCY = 4;
const HEX64 = /^[0-9a-f]{64}$/;

interface CacheManifest {
  schemaVersion?: unknown;
  artifactType?: unknown;
  config?: { mediaType?: unknown; digest?: unknown; size?: unknown };
  layers?: Array<{ digest?: unknown; size?: unknown; mediaType?: unknown }>;
}

/** A cache as read from its registry, before it is offered to a build. */
interface ReadCache {
  document: BuildCacheDocument;
  /** Layer digests the manifest lists (all present in the repository). */
  layers: Set<string>;
  bytes: number;
}

/**
 * The registry transport of the build cache; the builder loads it on first use.
 *
 * @example
 * ```ts
 * const cache = await registryCacheBackend.load(store, "localhost:5000/app:buildcache");
 * ```
 */
export const registryCacheBackend: RemoteCacheBackend = {
  async load(store: ImageStore, refText: string): Promise<LoadedCache> {
    const ref = parseReference(refText);
    const full = formatReference(ref);
    const client = new RegistryClient(ref.domain, { config: bentoConfig() });
    let read: ReadCache;
    try {
      read = await readCache(client, ref, `read build cache ${full}`);
    } catch (e) {
      if (e instanceof ManifestUnknownError) throw new BentoError("ERR_BUILD_CACHE", "nothing is stored there yet (a build with cacheTo writes it)", { cause: e });
      throw e;
    }
    return {
      ref: full,
      document: read.document,
      downloadedBytes: read.bytes,
      downloadedBlobs: 2,
      fetchLayer: (layer) => fetchLayer(store, client, ref.path, layer, `fetch a layer of build cache ${full}`),
    };
  },

  async save(store: ImageStore, refText: string, document: BuildCacheDocument, fetchMissing: (layer: LayerInfo) => Promise<void>): Promise<CacheExportReport> {
    const ref = parseReference(refText);
    const full = formatReference(ref);
    const action = `write build cache ${full}`;
    const client = new RegistryClient(ref.domain, { config: bentoConfig() });
    const present = new Set<string>();
    let previous: BuildCacheDocument | undefined;
    try {
      const read = await readCache(client, ref, action);
      previous = read.document;
      for (const d of read.layers) present.add(d);
    } catch (e) {
      // Nothing there yet, or something unusable: this export replaces it. An unreachable
      // registry or refused credentials fail the writes below with their own message.
      if (!(e instanceof ManifestUnknownError) && !(e instanceof BentoError && e.code === "ERR_BUILD_CACHE")) throw e;
    }
    const merged = mergeDocuments(document, previous);
    const layers = uniqueLayers(merged);
    const counts = { uploadedBlobs: 0, uploadedBytes: 0 };
    const upload = async (digest: Digest, size: number, open: () => Readable): Promise<void> => {
      const outcome = await client.uploadBlob(ref.path, { digest, size, open }, action);
      if (outcome === "uploaded") {
        counts.uploadedBlobs++;
        counts.uploadedBytes += size;
      }
    };
    await eachLimited(
      layers.filter((l) => !present.has(l.digest)),
      async (layer) => {
        if (!(await store.hasBlob(layer.digest)) && !(await client.hasBlob(ref.path, layer.digest, action, [repositoryScope(ref.path, ["pull", "push"])]))) await fetchMissing(layer);
        await upload(layer.digest, layer.size, () => createReadStream(store.blobPath(layer.digest)));
      },
    );
    const configBytes = Buffer.from(JSON.stringify(merged));
    const configDigest = sha256(configBytes);
    await upload(configDigest, configBytes.length, () => Readable.from([configBytes]));
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: BUILD_CACHE_ARTIFACT_TYPE,
      config: { mediaType: BUILD_CACHE_CONFIG_TYPE, digest: configDigest, size: configBytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      annotations: { "org.opencontainers.image.created": new Date().toISOString() },
    };
    const manifestDigest = await client.putManifest(ref.path, ref.tag ?? "latest", Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest, action);
    return { ref: full, mode: document.mode, steps: merged.steps.length, layers: layers.length, ...counts, manifestDigest };
  },
};

/** Reads and checks the manifest, the document and the presence of every layer it lists. */
async function readCache(client: RegistryClient, ref: Reference, action: string): Promise<ReadCache> {
  const fetched = await client.getManifest(ref.path, ref.digest ?? ref.tag ?? "latest", action);
  const manifest = parseJson<CacheManifest>(fetched.bytes, "the manifest");
  const configType = manifest.config?.mediaType;
  if (manifest.artifactType !== BUILD_CACHE_ARTIFACT_TYPE && configType !== BUILD_CACHE_CONFIG_TYPE) {
    const what = typeof manifest.artifactType === "string" ? `an artifact of type "${manifest.artifactType}"` : `a manifest whose config is "${String(configType)}"`;
    throw corrupt(`it holds ${what}, not a bento build cache (${BUILD_CACHE_ARTIFACT_TYPE}); use another reference for the cache than for images`);
  }
  const configDigest = manifest.config?.digest;
  const configSize = manifest.config?.size;
  if (!isDigest(configDigest) || typeof configSize !== "number" || !Number.isSafeInteger(configSize) || configSize < 0 || configSize > MAX_DOCUMENT_BYTES) {
    throw corrupt(`its manifest ${fetched.digest} has no valid config descriptor`);
  }
  const listed = new Set<string>();
  for (const layer of manifest.layers ?? []) {
    if (!isDigest(layer.digest)) throw corrupt(`its manifest ${fetched.digest} lists a layer without a valid digest`);
    listed.add(layer.digest);
  }
  const body = await client.openBlob(ref.path, configDigest, configSize, action);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (sha256(bytes) !== configDigest) throw corrupt(`its document does not match its digest ${configDigest}`);
  const document = parseDocument(bytes, listed);
  const missing: string[] = [];
  await eachLimited([...listed], async (digest) => {
    if (!(await client.hasBlob(ref.path, digest as Digest, action))) missing.push(digest);
  });
  if (missing.length > 0) {
    throw corrupt(`it references ${missing.length} layer blob(s) the registry does not have (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""}); the next export with cacheTo writes a complete one`);
  }
  return { document, layers: listed, bytes: fetched.bytes.length + bytes.length };
}

function corrupt(message: string): BentoError {
  return new BentoError("ERR_BUILD_CACHE", message);
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
    return value as T;
  } catch (e) {
    throw corrupt(`${what} is not valid JSON (${(e as Error).message})`);
  }
}

/** The document, checked field by field: a build must never trust a malformed record. */
function parseDocument(bytes: Buffer, listed: ReadonlySet<string>): BuildCacheDocument {
  const doc = parseJson<{ version?: unknown; mode?: unknown; steps?: unknown; rootfs?: unknown }>(bytes, "its document");
  if (doc.version !== 1) throw corrupt(`its document has version ${JSON.stringify(doc.version)}; this bento reads version 1`);
  if (!Array.isArray(doc.steps) || !Array.isArray(doc.rootfs ?? [])) throw corrupt("its document has no steps list");
  const layerOf = (value: unknown, where: string): LayerInfo => {
    const l = value as Partial<LayerInfo> | undefined;
    if (typeof l !== "object" || l === null || !isDigest(l.digest) || !isDigest(l.diffId) || typeof l.size !== "number" || typeof l.mediaType !== "string") throw corrupt(`${where} has a malformed layer`);
    if (!listed.has(l.digest)) throw corrupt(`${where} names layer ${l.digest}, which its manifest does not list`);
    return { digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType };
  };
  const steps: CachedStep[] = (doc.steps as unknown[]).map((value, i) => {
    const s = value as Partial<CachedStep>;
    const where = `step record ${i}`;
    if (typeof s !== "object" || s === null || typeof s.key !== "string" || !HEX64.test(s.key) || typeof s.parent !== "string" || typeof s.instruction !== "string" || typeof s.created !== "string") throw corrupt(`${where} is malformed`);
    const inputs = s.inputs ?? {};
    if (typeof inputs !== "object" || inputs === null || Object.values(inputs).some((v) => typeof v !== "string")) throw corrupt(`${where} has malformed inputs`);
    return { key: s.key, parent: s.parent, instruction: s.instruction, inputs: { ...inputs }, created: s.created, ...(s.layer === undefined ? {} : { layer: layerOf(s.layer, where) }) };
  });
  const rootfs: CachedRootfs[] = ((doc.rootfs ?? []) as unknown[]).map((value, i) => {
    const r = value as Partial<CachedRootfs>;
    if (typeof r !== "object" || r === null || typeof r.hash !== "string" || typeof r.created !== "string") throw corrupt(`root filesystem record ${i} is malformed`);
    return { hash: r.hash, created: r.created, layer: layerOf(r.layer, `root filesystem record ${i}`) };
  });
  return { version: 1, mode: doc.mode === "max" ? "max" : "min", steps, rootfs };
}

/** This export's records first, then those kept from the cache already there, up to a limit. */
function mergeDocuments(next: BuildCacheDocument, previous: BuildCacheDocument | undefined): BuildCacheDocument {
  if (previous === undefined) return next;
  const keys = new Set(next.steps.map((s) => s.key));
  const hashes = new Set(next.rootfs.map((r) => r.hash));
  return {
    version: 1,
    mode: next.mode,
    steps: [...next.steps, ...previous.steps.filter((s) => !keys.has(s.key))].slice(0, MAX_STEPS),
    rootfs: [...next.rootfs, ...previous.rootfs.filter((r) => !hashes.has(r.hash))].slice(0, MAX_ROOTFS),
  };
}

function uniqueLayers(doc: BuildCacheDocument): LayerInfo[] {
  const layers = new Map<string, LayerInfo>();
  for (const step of doc.steps) if (step.layer !== undefined) layers.set(step.layer.digest, step.layer);
  for (const entry of doc.rootfs) layers.set(entry.layer.digest, entry.layer);
  return [...layers.values()];
}

/** Streams a layer blob into the store, checking its size and digest; resolves to its size. */
async function fetchLayer(store: ImageStore, client: RegistryClient, name: string, layer: LayerInfo, action: string): Promise<number> {
  const body = await client.openBlob(name, layer.digest, layer.size, action);
  const counter = new ByteCounter(
    layer.size,
    () => undefined,
    () => new BentoError("ERR_BUILD_CACHE", `${action}: blob ${layer.digest} is larger than the ${layer.size} bytes the cache says`),
  );
  await storeBlobFrom(store, body, counter, { digest: layer.digest, size: layer.size });
  return layer.size;
}

async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
