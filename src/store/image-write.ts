/**
 * Adding to the image list: writing an image from a config and stored layers, adding an
 * imported manifest, and pointing or removing tags. Every change goes through {@link transact}.
 */
import { InvalidOptionError } from "../errors.js";
import { blobPath, hasBlob, putBlob } from "./blobs.js";
import { isDigest } from "./digest.js";
import { ImageNotFoundError, InvalidArchiveError } from "./errors.js";
import { lstatIfExists } from "./fs-util.js";
import { loadImage, matchReference } from "./images.js";
import { hostArchitecture } from "./platform.js";
import { formatReference, parseTagReference } from "./reference.js";
import { readState, transact } from "./refs.js";
import type { StoreContext } from "./store-context.js";
import { MediaType, type Descriptor, type ImageManifest, type OciImageConfig, type WriteImageInput, type WrittenImage } from "./types.js";

/** Writes an image as an OCI manifest and adds it, with `tags`; see `Store.writeImage`. */
export async function writeImage(ctx: StoreContext, input: WriteImageInput, tagList: string[]): Promise<WrittenImage> {
  await ctx.init();
  const tags = tagList.map((t) => formatReference(parseTagReference(t)));
  const diffIds = input.layers.map((l) => l.diffId);
  let configBytes: Buffer;
  if (Buffer.isBuffer(input.config)) {
    configBytes = input.config;
    const parsed = JSON.parse(configBytes.toString("utf8")) as OciImageConfig;
    const recorded = parsed.rootfs?.diff_ids ?? [];
    if (recorded.length !== diffIds.length || recorded.some((d, i) => d !== diffIds[i])) {
      throw new InvalidOptionError("config", "rootfs.diff_ids in the config bytes does not match the layers' diffId list");
    }
  } else {
    const config: OciImageConfig = {
      ...input.config,
      architecture: input.config.architecture ?? hostArchitecture(),
      os: input.config.os ?? "linux",
      rootfs: { type: "layers", diff_ids: diffIds },
    };
    configBytes = Buffer.from(JSON.stringify(config));
  }
  for (const layer of input.layers) {
    if (!isDigest(layer.digest) || !isDigest(layer.diffId)) throw new InvalidOptionError("layers", `${layer.digest} / ${layer.diffId}: not sha256 digests`);
    const stat = await lstatIfExists(blobPath(ctx, layer.digest));
    if (!stat) throw new InvalidOptionError("layers", `blob ${layer.digest} is not in the store; putBlob() or createLayerFromDir() it first`);
    if (stat.size !== layer.size) throw new InvalidOptionError("layers", `blob ${layer.digest} has ${stat.size} bytes, not ${layer.size}`);
  }
  const configBlob = await putBlob(ctx, configBytes, {});
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers: input.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBlob = await putBlob(ctx, Buffer.from(JSON.stringify(manifest)), {});
  await addImage(ctx, { mediaType: MediaType.ociManifest, digest: manifestBlob.digest, size: manifestBlob.size }, tags);
  return { id: configBlob.digest, manifestDigest: manifestBlob.digest };
}

/** Adds a stored manifest to the image list and points `tags` at it; see `Store.addImage`. */
export async function addImage(ctx: StoreContext, descriptor: Descriptor, tags: string[]): Promise<void> {
  const fullTags = tags.map((t) => formatReference(parseTagReference(t)));
  // A build that changed nothing writes the same image again: every start of a container whose
  // plan adds config steps to a stored image does. When the list holds it under every tag already
  // (read without the lock, as any reader does), there is nothing to write and no lock to wait for.
  const current = await readState(ctx);
  if (current.manifests.has(descriptor.digest) && fullTags.every((tag) => current.refs.get(tag) === descriptor.digest)) return;
  await transact(ctx, async (state) => {
    const { manifest } = await loadImage(ctx, descriptor.digest, []);
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!(await hasBlob(ctx, d.digest))) {
        throw new InvalidArchiveError(`image ${descriptor.digest}: blob ${d.digest} is missing (removed by a concurrent prune?); import or build it again`);
      }
    }
    state.manifests.set(descriptor.digest, { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size });
    for (const tag of fullTags) state.refs.set(tag, descriptor.digest);
  });
}

/** Points the tag `dst` at the image `src` names; see `Store.tag`. */
export async function tagImage(ctx: StoreContext, src: string, dst: string): Promise<void> {
  const target = formatReference(parseTagReference(dst));
  await transact(ctx, async (state) => {
    const { manifests } = await matchReference(ctx, state, src);
    const digest = manifests[0];
    if (digest === undefined) throw new ImageNotFoundError(src);
    state.refs.set(target, digest);
  });
}

/** Removes a tag; see `Store.untag`. */
export async function untagImage(ctx: StoreContext, ref: string): Promise<void> {
  const target = formatReference(parseTagReference(ref));
  await transact(ctx, async (state) => {
    if (!state.refs.has(target)) throw new ImageNotFoundError(ref);
    state.refs.delete(target);
  });
}
