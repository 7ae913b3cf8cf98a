/**
 * Reads images from `docker save` tars, OCI archives (tar, optionally gzipped) and OCI
 * image-layout directories into the store.
 *
 * Two phases, so a bad archive changes nothing: first every document and blob is checked
 * (sha256 and size against its descriptor, each layer's diff id against the config), then the
 * blobs go into the store and the images are added. A tar is read once (archive-sources.ts): small
 * members are kept in memory, big ones are streamed (and hashed) to temp files in the store's
 * `tmp/`, from where the ones that turn out to be layers are renamed into `blobs/`.
 */
import { createReadStream, promises as fs } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decompressor, detectCompression, detectFileCompression, layerMediaType, type Compression } from "../store/compression.js";
import { digestHex, HashTap, isDigest, sha256, type Digest } from "../store/digest.js";
import { DigestMismatchError, InvalidArchiveError, InvalidReferenceError } from "../store/errors.js";
import { removeTree, tempName } from "../store/fs-util.js";
import { familiarName, formatReference, parseReference, repositoryName } from "../store/reference.js";
import { hostArchitecture } from "../store/platform.js";
import type { ImageStore } from "../store/image-store.js";
import { type ArchiveSource, type Content, LayoutSource, TarSource } from "./archive-sources.js";
import { IMAGE_NAME_ANNOTATION, MediaType, REF_NAME_ANNOTATION, type Descriptor, type OciImageConfig, type ImageIndex, type ImageManifest, type ImportResult } from "../store/types.js";

const MAX_INDEX_DEPTH = 8;
const MANIFEST_TYPES = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest]);
const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);
const CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

function contentDigest(content: Content): { digest: Digest; size: number } {
  return content.kind === "buffer" ? { digest: sha256(content.data), size: content.data.length } : { digest: content.digest, size: content.size };
}

async function contentCompression(content: Content): Promise<Compression> {
  return content.kind === "buffer" ? detectCompression(content.data.subarray(0, 4)) : detectFileCompression(content.path);
}

/** sha256 of a layer's uncompressed tar. */
async function diffIdOf(content: Content, what: string): Promise<Digest> {
  const compression = await contentCompression(content);
  const tap = new HashTap();
  const source = content.kind === "buffer" ? Readable.from([content.data]) : createReadStream(content.path);
  const decompress = decompressor(compression, what);
  const sink = async function* (input: AsyncIterable<Buffer>): AsyncGenerator<never> {
    for await (const _ of input) void _;
  };
  if (decompress) await pipeline(source, decompress, tap, sink);
  else await pipeline(source, tap, sink);
  return tap.digest();
}

function parseJson<T>(content: Content | undefined, what: string): T {
  if (content === undefined) throw new InvalidArchiveError(`${what} is missing from the archive`);
  if (content.kind !== "buffer") throw new InvalidArchiveError(`${what} is too large to be a JSON document`);
  try {
    return JSON.parse(content.data.toString("utf8")) as T;
  } catch (e) {
    throw new InvalidArchiveError(`${what} is not valid JSON`, { cause: e });
  }
}

/** A blob to put into the store once everything is verified. */
interface PlannedBlob {
  digest: Digest;
  size: number;
  content: Content;
}

/** An image to add once its blobs are in. */
interface PlannedImage {
  manifest: Descriptor;
  id: Digest;
  tags: string[];
}

class ImportPlan {
  readonly blobs = new Map<Digest, PlannedBlob>();
  /** Every layer by diff id, to unpack before any image is added. */
  readonly layers = new Map<Digest, { digest: Digest; content: Content }>();
  readonly images: PlannedImage[] = [];
  readonly skipped: ImportResult["skipped"] = [];

  /** Adds an image; one reached twice (an index can list a manifest more than once) gets the union of its tags. */
  addImage(image: PlannedImage): void {
    const known = this.images.find((i) => i.manifest.digest === image.manifest.digest);
    if (known) known.tags = [...new Set([...known.tags, ...image.tags])];
    else this.images.push({ ...image, tags: [...new Set(image.tags)] });
  }

  addBlob(digest: Digest, content: Content): void {
    if (!this.blobs.has(digest)) this.blobs.set(digest, { digest, size: contentDigest(content).size, content });
  }
}

/** Verifies `content` against a descriptor's digest and size. */
function checkDescriptor(content: Content | undefined, descriptor: { digest: string; size?: number }, what: string): Content {
  if (content === undefined) throw new InvalidArchiveError(`${what}: blob ${descriptor.digest} is missing from the archive`);
  const actual = contentDigest(content);
  if (actual.digest !== descriptor.digest) throw new DigestMismatchError(what, descriptor.digest, actual.digest);
  if (descriptor.size !== undefined && actual.size !== descriptor.size) {
    throw new DigestMismatchError(`${what}: size of ${descriptor.digest}`, `${descriptor.size} bytes`, `${actual.size} bytes`);
  }
  return content;
}

function blobName(digest: string, what: string): string {
  if (!isDigest(digest)) throw new InvalidArchiveError(`${what}: "${digest}" is not a sha256 digest (bento stores sha256 content only)`);
  return `blobs/sha256/${digestHex(digest)}`;
}

/** Verifies an image's config and layers and adds them to the plan. */
async function planImage(plan: ImportPlan, manifest: ImageManifest, configContent: Content, layerContents: Content[], what: string): Promise<Digest> {
  const config = parseJson<OciImageConfig>(configContent, `${what}: config`);
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new InvalidArchiveError(`${what}: the config lists ${Array.isArray(diffIds) ? diffIds.length : "no"} diff ids for ${manifest.layers.length} layers`);
  }
  const id = contentDigest(configContent).digest;
  plan.addBlob(id, configContent);
  for (const [i, layer] of manifest.layers.entries()) {
    const content = layerContents[i] as Content;
    const expected = diffIds[i];
    if (!isDigest(expected)) throw new InvalidArchiveError(`${what}: diff id "${String(expected)}" is not a sha256 digest`);
    const actual = await diffIdOf(content, `${what}: layer ${layer.digest}`);
    if (actual !== expected) throw new DigestMismatchError(`${what}: diff id of layer ${i + 1} (${layer.digest})`, expected, actual);
    plan.addBlob(layer.digest, content);
    plan.layers.set(expected, { digest: layer.digest, content });
  }
  return id;
}

/** Tags named by an index entry's annotations; a bare tag (no repository) names nothing. */
function annotationTags(annotations: Record<string, string> | undefined): string[] {
  const name = annotations?.[IMAGE_NAME_ANNOTATION] ?? annotations?.[REF_NAME_ANNOTATION];
  if (name === undefined || !/[:/]/.test(name)) return [];
  try {
    const ref = parseReference(name);
    return ref.digest === undefined ? [formatReference(ref)] : [];
  } catch (e) {
    if (e instanceof InvalidReferenceError) return [];
    throw e;
  }
}

function platformMatches(d: Descriptor): boolean {
  return d.platform === undefined || (d.platform.os === "linux" && d.platform.architecture === hostArchitecture());
}

async function planOci(source: ArchiveSource, plan: ImportPlan, dockerTags: Map<Digest, string[]>): Promise<void> {
  const layout = parseJson<{ imageLayoutVersion?: string }>(await source.get("oci-layout"), "oci-layout");
  if (typeof layout.imageLayoutVersion !== "string" || !layout.imageLayoutVersion.startsWith("1.")) {
    throw new InvalidArchiveError(`oci-layout: imageLayoutVersion "${String(layout.imageLayoutVersion)}" is not 1.x`);
  }
  const index = parseJson<ImageIndex>(await source.get("index.json"), "index.json");
  if (!Array.isArray(index.manifests)) throw new InvalidArchiveError("index.json has no manifests list");

  const visit = async (descriptor: Descriptor, tags: string[], depth: number): Promise<void> => {
    const what = `manifest ${descriptor.digest}`;
    if (depth > MAX_INDEX_DEPTH) throw new InvalidArchiveError(`${what}: indexes nest more than ${MAX_INDEX_DEPTH} deep`);
    const content = checkDescriptor(await source.get(blobName(descriptor.digest, what)), descriptor, what);
    const doc = parseJson<Partial<ImageManifest & ImageIndex>>(content, what);
    if (Array.isArray(doc.manifests)) {
      const children = doc.manifests.filter(platformMatches);
      if (children.length === 0) {
        const offered = doc.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(", ");
        plan.skipped.push({ digest: descriptor.digest, reason: `no linux/${hostArchitecture()} image in the index (it has ${offered})` });
      }
      for (const child of children) await visit(child, [...tags, ...annotationTags(child.annotations)], depth + 1);
      return;
    }
    if (doc.config === undefined || !Array.isArray(doc.layers)) {
      plan.skipped.push({ digest: descriptor.digest, reason: "not an image manifest or index" });
      return;
    }
    const manifest = doc as ImageManifest;
    if (!CONFIG_TYPES.has(manifest.config.mediaType)) {
      plan.skipped.push({ digest: descriptor.digest, reason: `config media type ${manifest.config.mediaType} is not a container image config (an artifact?)` });
      return;
    }
    const configContent = checkDescriptor(await source.get(blobName(manifest.config.digest, what)), manifest.config, `${what}: config`);
    const layers: Content[] = [];
    for (const layer of manifest.layers) {
      layers.push(checkDescriptor(await source.get(blobName(layer.digest, what)), layer, `${what}: layer`));
    }
    const id = await planImage(plan, manifest, configContent, layers, what);
    plan.addBlob(descriptor.digest, content);
    const mediaType = manifest.mediaType ?? (MANIFEST_TYPES.has(descriptor.mediaType) ? descriptor.mediaType : MediaType.ociManifest);
    plan.addImage({
      manifest: { mediaType, digest: descriptor.digest, size: contentDigest(content).size },
      id,
      tags: [...tags, ...(dockerTags.get(id) ?? [])],
    });
  };
  for (const descriptor of index.manifests) {
    if (INDEX_TYPES.has(descriptor.mediaType) || platformMatches(descriptor)) {
      await visit(descriptor, annotationTags(descriptor.annotations), 0);
    } else {
      plan.skipped.push({ digest: descriptor.digest, reason: `for ${descriptor.platform?.os}/${descriptor.platform?.architecture}, not linux/${hostArchitecture()}` });
    }
  }
}

interface DockerManifestEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

function repoTags(entry: DockerManifestEntry): string[] {
  return (entry.RepoTags ?? []).map((t) => formatReference(parseReference(t)));
}

async function dockerEntries(source: ArchiveSource): Promise<DockerManifestEntry[] | undefined> {
  const content = await source.get("manifest.json");
  if (content === undefined) return undefined;
  const entries = parseJson<DockerManifestEntry[]>(content, "manifest.json");
  if (!Array.isArray(entries)) throw new InvalidArchiveError("manifest.json is not a list of images");
  return entries;
}

async function planDocker(source: ArchiveSource, plan: ImportPlan, entries: DockerManifestEntry[]): Promise<void> {
  for (const [n, entry] of entries.entries()) {
    const what = `manifest.json image ${n + 1}`;
    if (typeof entry.Config !== "string" || !Array.isArray(entry.Layers)) throw new InvalidArchiveError(`${what} has no Config or Layers`);
    const configContent = await source.get(entry.Config);
    if (configContent === undefined) throw new InvalidArchiveError(`${what}: config "${entry.Config}" is missing from the archive`);
    const named = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config);
    const id = contentDigest(configContent).digest;
    if (named && `sha256:${named[1]}` !== id) throw new DigestMismatchError(`${what}: config "${entry.Config}"`, `sha256:${named[1]}`, id);
    const layers: Content[] = [];
    const descriptors: Descriptor[] = [];
    for (const name of entry.Layers) {
      const content = await source.get(name);
      if (content === undefined) throw new InvalidArchiveError(`${what}: layer "${name}" is missing from the archive`);
      layers.push(content);
      const { digest, size } = contentDigest(content);
      descriptors.push({ mediaType: layerMediaType(await contentCompression(content)), digest, size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: id, size: contentDigest(configContent).size },
      layers: descriptors,
    };
    await planImage(plan, manifest, configContent, layers, what);
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(manifestBytes);
    plan.addBlob(manifestDigest, { kind: "buffer", data: manifestBytes });
    plan.addImage({ manifest: { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.length }, id, tags: repoTags(entry) });
  }
}

/**
 * Unpacks every layer before any blob or image record is written, as `docker load` does: a
 * layer that would escape its root (a ".." path, a link out of the layer) is refused now rather
 * than at the image's first start. On failure the layer directories this import made are removed,
 * so the store is as it was.
 */
async function unpackLayers(store: ImageStore, plan: ImportPlan): Promise<void> {
  const made: string[] = [];
  try {
    for (const [diffId, { digest, content }] of plan.layers) {
      const file = content.kind === "file" ? content.path : join(store.tmpDir, tempName());
      try {
        if (content.kind === "buffer") await fs.writeFile(file, content.data, { flag: "wx", mode: 0o600 });
        const { dir, unpacked } = await store.unpackLayerFile(file, { digest, diffId });
        if (unpacked) made.push(dir);
      } finally {
        if (content.kind === "buffer") await fs.rm(file, { force: true });
      }
    }
  } catch (e) {
    for (const dir of made) await removeTree(dir);
    throw e;
  }
}

async function commit(store: ImageStore, plan: ImportPlan): Promise<ImportResult> {
  for (const blob of plan.blobs.values()) {
    const { content } = blob;
    if (content.kind === "buffer") await store.putBlob(content.data, { digest: blob.digest, size: blob.size });
    else if (content.owned) await store.adoptBlob(content.path, blob.digest, blob.size);
    else await store.putBlob(createReadStream(content.path), { digest: blob.digest, size: blob.size });
  }
  const images: ImportResult["images"] = [];
  for (const image of plan.images) {
    await store.addImage(image.manifest, image.tags);
    images.push({
      id: image.id,
      manifestDigest: image.manifest.digest,
      tags: image.tags.map((t) => {
        const ref = parseReference(t);
        return `${familiarName(repositoryName(ref))}:${ref.tag}`;
      }),
    });
  }
  return { images, skipped: plan.skipped };
}

/** Imports every image in the archive or layout at `path` (see the module comment). */
export async function importArchive(store: ImageStore, path: string): Promise<ImportResult> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (e) {
    throw new InvalidArchiveError(`import "${path}": ${(e as Error).message}`, { cause: e });
  }
  let source: ArchiveSource;
  if (stat.isDirectory()) {
    source = new LayoutSource(path);
    if ((await source.get("oci-layout")) === undefined) {
      throw new InvalidArchiveError(`import "${path}": the directory is not an OCI image layout (no oci-layout file)`);
    }
  } else {
    source = await TarSource.read(path, store);
  }
  try {
    const plan = new ImportPlan();
    const docker = await dockerEntries(source);
    const isOci = (await source.get("oci-layout")) !== undefined && (await source.get("index.json")) !== undefined;
    if (isOci) {
      const dockerTags = new Map<Digest, string[]>();
      for (const entry of docker ?? []) {
        const configContent = typeof entry.Config === "string" ? await source.get(entry.Config) : undefined;
        if (configContent) dockerTags.set(contentDigest(configContent).digest, repoTags(entry));
      }
      await planOci(source, plan, dockerTags);
    } else if (docker !== undefined) {
      await planDocker(source, plan, docker);
    } else {
      throw new InvalidArchiveError(`import "${path}": not a docker save archive (no manifest.json) or an OCI archive (no oci-layout and index.json)`);
    }
    if (plan.images.length === 0) {
      const why = plan.skipped.map((s) => `${s.digest}: ${s.reason}`).join("; ");
      throw new InvalidArchiveError(`import "${path}": the archive holds no container image${why ? ` (${why})` : ""}`);
    }
    await unpackLayers(store, plan);
    return await commit(store, plan);
  } finally {
    await source.cleanup();
  }
}
