/**
 * Reading images: loading a manifest and its config, resolving a reference (tag, digest, id or
 * id prefix) to manifests, and the `docker images` / `docker image inspect` views.
 */
import { readJson } from "./blobs.js";
import { isDigest, type Digest } from "./digest.js";
import { ImageNotFoundError, InvalidArchiveError, InvalidReferenceError } from "./errors.js";
import { familiarName, formatReference, parseReference, parseTagReference, repositoryName, type Reference } from "./reference.js";
import { preferTagged, readState, tagsFor, type StoreState } from "./refs.js";
import type { StoreContext } from "./store-context.js";
import type { Descriptor, ImageInspect, ImageManifest, ImageSummary, OciImageConfig, ResolvedImage } from "./types.js";

/** The image whose manifest is `manifestDigest`, with `tags`; records its layers' blobs in `ctx.layerBlobs`. */
export async function loadImage(ctx: StoreContext, manifestDigest: Digest, tags: string[]): Promise<ResolvedImage> {
  const manifest = await readJson<ImageManifest>(ctx, manifestDigest);
  const config = await readJson<OciImageConfig>(ctx, manifest.config.digest);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidArchiveError(`image ${manifest.config.digest}: the manifest has ${manifest.layers.length} layers but the config lists ${diffIds.length} diff ids`);
  }
  const layers = manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i] as Digest, size: l.size, mediaType: l.mediaType }));
  for (const layer of layers) if (!ctx.layerBlobs.has(layer.diffId)) ctx.layerBlobs.set(layer.diffId, layer);
  return { id: manifest.config.digest, manifestDigest, manifest, config, layers, tags };
}

/** Finds manifests by image id (config digest), manifest digest or id prefix. */
async function findByDigest(ctx: StoreContext, manifests: Map<Digest, Descriptor>, want: string, prefix: boolean): Promise<Digest[]> {
  const found: Digest[] = [];
  for (const digest of manifests.keys()) {
    const manifest = await readJson<ImageManifest>(ctx, digest);
    const id = manifest.config?.digest;
    const hit = prefix ? id?.startsWith(`sha256:${want}`) : digest === want || id === want;
    if (hit) found.push(digest);
  }
  return found;
}

/** Resolves a reference to one image; see `Store.resolve`. */
export async function resolveImage(ctx: StoreContext, ref: string): Promise<ResolvedImage> {
  await ctx.init();
  const state = await readState(ctx);
  const matches = await matchReference(ctx, state, ref);
  const first = matches.manifests[0];
  if (first === undefined) throw new ImageNotFoundError(ref);
  return loadImage(ctx, first, tagsFor(state, first));
}

/** What a reference names: the manifests, and the tag when it was a tag reference. */
export async function matchReference(ctx: StoreContext, state: StoreState, ref: string): Promise<{ manifests: Digest[]; tag: string | undefined }> {
  const bare = /^[a-f0-9]{64}$/.test(ref) ? `sha256:${ref}` : ref;
  if (isDigest(bare)) {
    const found = await findByDigest(ctx, state.manifests, bare, false);
    return { manifests: preferTagged(state, found), tag: undefined };
  }
  let parsed: Reference | undefined;
  try {
    parsed = parseReference(ref);
  } catch (e) {
    if (!(e instanceof InvalidReferenceError)) throw e;
  }
  if (parsed?.digest !== undefined) {
    return { manifests: state.manifests.has(parsed.digest) ? [parsed.digest] : [], tag: undefined };
  }
  if (parsed !== undefined) {
    const full = formatReference(parsed);
    const digest = state.refs.get(full);
    if (digest !== undefined && state.manifests.has(digest)) return { manifests: [digest], tag: full };
  }
  if (/^[a-f0-9]{4,63}$/.test(ref)) {
    const found = await findByDigest(ctx, state.manifests, ref, true);
    const ids = new Set<string>();
    for (const d of found) ids.add((await readJson<ImageManifest>(ctx, d)).config.digest);
    if (ids.size > 1) throw new InvalidReferenceError(ref, `the id prefix matches ${ids.size} images; give more digits`);
    return { manifests: preferTagged(state, found), tag: undefined };
  }
  if (parsed === undefined) parseReference(ref);
  return { manifests: [], tag: undefined };
}

/** Every image, one row per tag; see `Store.images`. */
export async function listImages(ctx: StoreContext): Promise<ImageSummary[]> {
  await ctx.init();
  const state = await readState(ctx);
  const rows: ImageSummary[] = [];
  for (const digest of state.manifests.keys()) {
    const image = await loadImage(ctx, digest, tagsFor(state, digest));
    const repoTags = image.tags.map(familiar);
    const base = {
      id: image.id,
      manifestDigest: digest,
      repoTags,
      created: image.config.created,
      sizeBytes: imageSize(image),
    };
    if (image.tags.length === 0) rows.push({ repository: "<none>", tag: "<none>", ...base });
    for (const full of image.tags) {
      const ref = parseTagReference(full);
      rows.push({ repository: familiarName(repositoryName(ref)), tag: ref.tag, ...base });
    }
  }
  return rows.sort((a, b) => (b.created ?? "").localeCompare(a.created ?? "") || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}

/** Details of one image; see `Store.inspect`. */
export async function inspectImage(ctx: StoreContext, ref: string): Promise<ImageInspect> {
  const image = await resolveImage(ctx, ref);
  return {
    id: image.id,
    manifestDigest: image.manifestDigest,
    repoTags: image.tags.map(familiar),
    created: image.config.created,
    architecture: image.config.architecture,
    os: image.config.os,
    config: image.config.config ?? {},
    layers: image.layers,
    history: image.config.history ?? [],
    sizeBytes: imageSize(image),
    rawConfig: image.config,
  };
}

/** A full tag reference as Docker prints it: `alpine:3.20` for `docker.io/library/alpine:3.20`. */
export function familiar(full: string): string {
  const ref = parseTagReference(full);
  return `${familiarName(repositoryName(ref))}:${ref.tag}`;
}

/** The bytes of an image's config and layer blobs. */
export function imageSize(image: ResolvedImage): number {
  return image.manifest.config.size + image.layers.reduce((sum, l) => sum + l.size, 0);
}
