/**
 * Layers: unpacking a layer blob into `layers/<diffid hex>/` once per store (and once per
 * process at a time), the overlay `lowerdir` list of an image, and turning a container's upper
 * directory into a new gzip layer blob.
 */
import { OPAQUE_XATTRS } from "./overlay-markers.js";
import { createWriteStream, lstatSync, promises as fs } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { zlibModule } from "../deps.js";
import { InvalidOptionError } from "../errors.js";
import { blobPath, commitBlob } from "./blobs.js";
import { digestHex, HashTap, isDigest, type Digest } from "./digest.js";
import { tempName } from "./fs-util.js";
import { loadImage, resolveImage } from "./images.js";
import { layerTarFromDir, type RecordedOwners } from "./layer-from-dir.js";
import { readManifests } from "./refs.js";
import { isErrno, nativeFs, systemError } from "./native-fs.js";
import type { StoreContext } from "./store-context.js";
import { MediaType, type LayerInfo } from "./types.js";
import { unpackLayer, type UnpackLayerInput } from "./unpack-layer.js";

const UNPACK_CONCURRENCY = 4;

/** The unpacked directory of the layer `diffId`, unpacking it on first use; see `Store.layerDir`. */
export async function layerDir(ctx: StoreContext, diffId: Digest, hint?: LayerInfo): Promise<string> {
  await ctx.init();
  if (!isDigest(diffId)) throw new InvalidOptionError("diffId", `"${String(diffId)}" is not a sha256 digest`);
  const dir = join(ctx.layersDir, digestHex(diffId));
  // Every container start asks this for each layer of its image: one synchronous lstat costs
  // microseconds, where fs.promises waits for a thread-pool round trip per layer.
  if (lstatSync(dir, { throwIfNoEntry: false }) !== undefined) return dir;
  let pending = ctx.unpacking.get(diffId);
  if (!pending) {
    pending = (async () => {
      const layer = hint ?? (await findLayerBlob(ctx, diffId));
      const result = await unpackLayer({ blobPath: blobPath(ctx, layer.digest), digest: layer.digest, diffId, layersDir: ctx.layersDir, options: unpackOptions(ctx) });
      return result.dir;
    })();
    ctx.unpacking.set(diffId, pending);
    pending.then(
      () => ctx.unpacking.delete(diffId),
      () => ctx.unpacking.delete(diffId),
    );
  }
  return pending;
}

/** How this store unpacks layers: ownership, devices and xattrs as its privileges allow. */
function unpackOptions(ctx: StoreContext): UnpackLayerInput["options"] {
  const native = ctx.options.privileged;
  return { chown: native, devices: native, opaqueXattr: `${ctx.options.overlayXattrNamespace}.overlay.opaque`, keepXattr: (name) => keepLayerXattr(name, native) };
}

/**
 * Unpacks a layer from a blob file outside the store (an archive being imported), exactly as
 * its first use would, so a layer that cannot be unpacked safely is refused before any image
 * names it; see `ImageStore.unpackLayerFile`.
 */
/** A layer unpacked from a blob file (`unpackLayerFile`). */
export interface UnpackedLayerFile {
  /** The layer's directory in the store. */
  dir: string;
  /** False when that directory already existed (the store had the layer). */
  unpacked: boolean;
}

export async function unpackLayerFile(ctx: StoreContext, file: string, layer: { digest: Digest; diffId: Digest }): Promise<UnpackedLayerFile> {
  await ctx.init();
  const { dir, unpacked } = await unpackLayer({ blobPath: file, digest: layer.digest, diffId: layer.diffId, layersDir: ctx.layersDir, options: unpackOptions(ctx) });
  return { dir, unpacked };
}

async function findLayerBlob(ctx: StoreContext, diffId: Digest): Promise<LayerInfo> {
  const known = ctx.layerBlobs.get(diffId);
  if (known) return known;
  for (const digest of (await readManifests(ctx)).keys()) await loadImage(ctx, digest, []);
  const found = ctx.layerBlobs.get(diffId);
  if (!found) throw new InvalidOptionError("diffId", `no stored image has the layer ${diffId}; pass its blob as the hint`);
  return found;
}

/** An image's layer directories, top layer first, each once; see `Store.lowerDirs`. */
export async function lowerDirs(ctx: StoreContext, image: string | readonly LayerInfo[]): Promise<string[]> {
  const layers = typeof image === "string" ? (await resolveImage(ctx, image)).layers : image;
  const dirs = new Array<string>(layers.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < layers.length) {
      const i = next++;
      const layer = layers[i] as LayerInfo;
      dirs[i] = await layerDir(ctx, layer.diffId, layer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(UNPACK_CONCURRENCY, layers.length) }, worker));
  const seen = new Set<string>();
  const topFirst: string[] = [];
  for (const dir of dirs.reverse()) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    topFirst.push(dir);
  }
  return topFirst;
}

/** Turns an overlay upper directory into a gzip layer blob; see `Store.createLayerFromDir`. */
export async function createLayerFromDir(ctx: StoreContext, upperDir: string, recorded?: RecordedOwners, adopt = false): Promise<LayerInfo> {
  await ctx.init();
  const tmp = join(ctx.tmpDir, tempName());
  const uncompressed = new HashTap();
  const compressed = new HashTap();
  const native = ctx.options.privileged;
  let literal = true;
  try {
    const tar = Readable.from(
      layerTarFromDir(upperDir, {
        opaqueXattrs: OPAQUE_XATTRS,
        keepXattr: (name) => keepLayerXattr(name, native),
        ...(recorded ? { recorded } : native ? {} : { imageOwner: ownIdsAsRoot }),
        onRewrite: () => {
          literal = false;
        },
      }),
    );
    await pipeline(tar, uncompressed, zlibModule().createGzip(), compressed, createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
    const layer: LayerInfo = {
      digest: compressed.digest(),
      diffId: uncompressed.digest(),
      size: compressed.size,
      mediaType: MediaType.ociLayerGzip,
    };
    await commitBlob(ctx, tmp, layer.digest, layer.size);
    ctx.layerBlobs.set(layer.diffId, layer);
    if (adopt && native && literal) await adoptAsLayerDir(ctx, upperDir, layer.diffId);
    return layer;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Moves a tree bento wrote itself (a COPY or WORKDIR step's files) into the store as the
 * unpacked directory of the layer just made from it, when unpacking the blob would give the same
 * tree (no whiteout, `.wh.` name, socket or dropped xattr was rewritten on the way): deleting
 * the tree and unpacking the same files again cost 2.5 s and more for a COPY of 5000 small files
 * on this machine's disk. Flushed first, as an unpack is. A store that
 * has the directory already, or sits on another filesystem, keeps its own (the caller deletes the
 * tree). Only with root's powers: rootless the tree's owners are the user's, not the layer's.
 */
async function adoptAsLayerDir(ctx: StoreContext, tree: string, diffId: Digest): Promise<void> {
  try {
    nativeFs().syncfs(tree);
    await fs.rename(tree, join(ctx.layersDir, digestHex(diffId)));
  } catch (e) {
    if (!isErrno(e, "ENOTEMPTY", "EEXIST", "EXDEV")) throw systemError(`store layer ${diffId} from ${tree}`, e);
  }
}

/** Rootless: the user's own ids are root's in the image (as in the container's user namespace). */
function ownIdsAsRoot(uid: number, gid: number): { uid: number; gid: number } {
  return { uid: uid === process.geteuid?.() ? 0 : uid, gid: gid === process.getegid?.() ? 0 : gid };
}

/**
 * Which extended attributes a layer keeps. Overlay's own never (they would steer the overlay
 * that mounts the layer); `security.selinux` never (labels come from the runtime); `trusted.*`
 * and `security.*` only with root's powers (`security.capability` is how ping gets CAP_NET_RAW).
 */
export function keepLayerXattr(name: string, privileged: boolean): boolean {
  if (/^(trusted|user)\.overlay\./.test(name)) return false;
  if (name === "security.selinux") return false;
  if (name.startsWith("trusted.") || name.startsWith("security.")) return privileged;
  return true;
}
