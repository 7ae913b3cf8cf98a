/**
 * `store.push(ref)`: upload the config and layers the repository lacks (HEAD first; a
 * cross-repository mount when another repository of the same registry is known to hold the blob,
 * from the store's tags), then PUT the manifest with its stored bytes, so the manifest digest
 * and the image id are the same on both sides.
 */
import { createReadStream } from "node:fs";
import { config as bentoConfig, type BentoConfig } from "../config.js";
import type { Digest } from "../store/digest.js";
import { formatReference, parseReference } from "../store/reference.js";
import type { ImageStore } from "../store/image-store.js";
import { MediaType, type Descriptor } from "../store/types.js";
import { RegistryClient, type UploadOutcome } from "./client.js";
import { emit, type ProgressListener } from "./progress.js";
import { documentType } from "./platform-match.js";

/** Options for {@link Store.push}. */
export interface PushOptions {
  /** Called as blobs are checked, mounted and uploaded. */
  onProgress?: ProgressListener;
  /** Aborts the push. */
  signal?: AbortSignal;
}

/** What {@link Store.push} did. */
export interface PushResult {
  /** The full reference pushed: `localhost:5000/app:1`. */
  reference: string;
  /** The image id (config digest). */
  id: Digest;
  /** The manifest's digest, the same in the registry. */
  manifestDigest: Digest;
  /** Blobs uploaded. */
  uploadedBlobs: number;
  /** Blobs the registry copied from another of its repositories. */
  mountedBlobs: number;
  /** Blobs the repository already held. */
  existingBlobs: number;
  /** Bytes uploaded. */
  uploadedBytes: number;
}

const UPLOAD_CONCURRENCY = 3;

/**
 * Pushes the image `ref` names in the store to the registry in `ref`. Tag the image with the
 * target name first (`store.tag(id, "localhost:5000/app:1")`), as with `docker push`.
 *
 * @example
 * ```ts
 * await store.tag("myapp:test", "localhost:5000/myapp:test");
 * const { manifestDigest } = await pushImage(store, "localhost:5000/myapp:test");
 * ```
 */
export async function pushImage(store: ImageStore, refText: string, options: PushOptions = {}, cfg: BentoConfig = bentoConfig()): Promise<PushResult> {
  const ref = parseReference(refText);
  const full = formatReference(ref);
  const action = `push ${full}`;
  const image = await store.resolve(refText);
  const client = new RegistryClient(ref.domain, { config: cfg, signal: options.signal });
  const mountSources = await repositoriesHolding(store, ref.domain, ref.path);
  const counts = { uploadedBlobs: 0, mountedBlobs: 0, existingBlobs: 0, uploadedBytes: 0 };

  const upload = async (d: Descriptor, kind: "config" | "layer"): Promise<void> => {
    emit(options.onProgress, { reference: full, kind, digest: d.digest, status: "uploading", bytes: 0, totalBytes: d.size });
    const outcome: UploadOutcome = await client.uploadBlob(ref.path, { digest: d.digest, size: d.size, open: () => createReadStream(store.blobPath(d.digest)) }, action, [...(mountSources.get(d.digest) ?? [])]);
    if (outcome === "uploaded") {
      counts.uploadedBlobs++;
      counts.uploadedBytes += d.size;
    } else if (outcome === "mounted") counts.mountedBlobs++;
    else counts.existingBlobs++;
    emit(options.onProgress, { reference: full, kind, digest: d.digest, status: outcome, bytes: d.size, totalBytes: d.size });
  };

  const blobs: Array<[Descriptor, "config" | "layer"]> = [...[...new Map(image.manifest.layers.map((l) => [l.digest, l])).values()].map((l) => [l, "layer"] as [Descriptor, "layer"]), [image.manifest.config, "config"]];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < blobs.length) {
      const [d, kind] = blobs[next++] as [Descriptor, "config" | "layer"];
      await upload(d, kind);
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, blobs.length) }, worker));

  const bytes = await store.readBlob(image.manifestDigest);
  const mediaType = image.manifest.mediaType ?? (documentType(bytes) || MediaType.ociManifest);
  await client.putManifest(ref.path, ref.digest ?? (ref.tag as string), bytes, mediaType, action);
  emit(options.onProgress, { reference: full, kind: "manifest", digest: image.manifestDigest, status: "uploaded", bytes: bytes.length, totalBytes: bytes.length });
  return { reference: full, id: image.id, manifestDigest: image.manifestDigest, ...counts };
}

/**
 * Which other repositories of `domain` hold each blob, by the store's tags: an image tagged
 * `localhost:5000/base:1` came from (or went to) that repository, so its blobs are there to mount.
 */
async function repositoriesHolding(store: ImageStore, domain: string, except: string): Promise<Map<Digest, Set<string>>> {
  const holders = new Map<Digest, Set<string>>();
  const seen = new Set<Digest>();
  for (const row of await store.images()) {
    if (seen.has(row.manifestDigest)) continue;
    seen.add(row.manifestDigest);
    const image = await store.resolve(row.manifestDigest);
    const repos = image.tags
      .map((t) => parseReference(t))
      .filter((r) => r.domain === domain && r.path !== except)
      .map((r) => r.path);
    if (repos.length === 0) continue;
    for (const d of [image.id, ...image.layers.map((l) => l.digest)]) {
      const set = holders.get(d) ?? new Set<string>();
      for (const r of repos) set.add(r);
      holders.set(d, set);
    }
  }
  return holders;
}
