/**
 * Unpacks a layer blob into `layers/<diffid hex>/`, once: into `layers/tmp-<pid>-<random>`,
 * verifying the blob's digest and its diff id (sha256 of the uncompressed tar) on the way, then
 * synced (one syncfs(2), so a crash cannot leave a renamed layer with unwritten files; layers
 * are never checked again) and renamed into place. Two processes unpacking the same layer both finish; the second rename
 * fails with ENOTEMPTY or EEXIST and that process drops its copy and uses the winner's.
 */
import { createReadStream, promises as fs } from "node:fs";
import { join } from "node:path";
import { pipeline, type Readable } from "node:stream";
import { applyLayer, type ApplyLayerOptions, type ApplyLayerResult } from "./apply-layer.js";
import { layerOwnerBatch } from "./layer-owners.js";
import { decompressor, detectFileCompression } from "./compression.js";
import { digestHex, HashTap, type Digest } from "./digest.js";
import { DigestMismatchError } from "./errors.js";
import { tempName } from "./fs-util.js";
import { isErrno, nativeFs, systemError } from "./native-fs.js";
import { readTar } from "./tar-reader.js";

/** The prefix of in-progress layer directories under `layers/`. */
export const LAYER_TEMP_PREFIX = "tmp-";

/** What to unpack and where. */
export interface UnpackLayerInput {
  /** The blob file. */
  blobPath: string;
  /** The blob's digest (of the compressed bytes). */
  digest: Digest;
  /** The layer's diff id (of the uncompressed tar). */
  diffId: Digest;
  /** The store's `layers/` directory. */
  layersDir: string;
  /** Ownership, device and xattr policy. */
  options: Omit<ApplyLayerOptions, "context">;
}

/** The result of {@link unpackLayer}. */
export interface UnpackLayerResult {
  /** `layers/<diffid hex>`. */
  dir: string;
  /** False when the directory already existed (or another process won the race). */
  unpacked: boolean;
  /** Entries skipped while unpacking (devices without CAP_MKNOD, xattrs not kept). */
  skipped: string[];
}

/** Streams a blob through its decompressor, hashing both sides. */
export async function openLayerStream(blobPath: string, what: string): Promise<{ stream: Readable; compressed: HashTap; uncompressed: HashTap; done: Promise<void> }> {
  const compression = await detectFileCompression(blobPath);
  const compressed = new HashTap();
  const uncompressed = new HashTap();
  const decompress = decompressor(compression, what);
  const stages = [createReadStream(blobPath), compressed, ...(decompress ? [decompress] : []), uncompressed];
  let settle!: (e?: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (e) => (e ? reject(e) : resolve());
  });
  // Errors reach the caller through the last stream, which pipeline destroys with them.
  done.catch(() => undefined);
  const stream = (pipeline as unknown as (...args: unknown[]) => Readable)(...stages, (e: Error | null) => settle(e));
  return { stream, compressed, uncompressed, done };
}

/** Unpacks the layer unless `layers/<diffid hex>` exists. See the module comment. */
export async function unpackLayer(input: UnpackLayerInput): Promise<UnpackLayerResult> {
  const dir = join(input.layersDir, digestHex(input.diffId));
  if (await exists(dir)) return { dir, unpacked: false, skipped: [] };
  const context = `unpack layer ${input.diffId}`;
  const tmp = join(input.layersDir, tempName(LAYER_TEMP_PREFIX));
  try {
    await fs.mkdir(tmp, 0o700);
    await fs.chmod(tmp, 0o755);
    const { stream, compressed, uncompressed, done } = await openLayerStream(input.blobPath, context);
    let result: ApplyLayerResult;
    // A store that may not chown hands the owners to what the runtime installed (rootless: set
    // from inside the user namespace), once every file is written.
    const owners = input.options.chown ? undefined : layerOwnerBatch(tmp);
    try {
      result = await applyLayer(readTar(stream, `layer ${input.digest}`), tmp, {
        ...input.options,
        context,
        ...(owners ? { deferOwner: (path: string, uid: number, gid: number) => owners.set(path, uid, gid), deferCapability: (path: string, value: Buffer) => owners.setCapability(path, value) } : {}),
      });
      await done;
    } finally {
      stream.destroy();
    }
    await owners?.apply();
    const digest = compressed.digest();
    if (digest !== input.digest) throw new DigestMismatchError(`${context}: blob ${input.blobPath}`, input.digest, digest);
    const diffId = uncompressed.digest();
    if (diffId !== input.diffId) throw new DigestMismatchError(`${context}: diff id of blob ${input.digest}`, input.diffId, diffId);
    try {
      nativeFs().syncfs(tmp);
    } catch (e) {
      throw systemError(context, e);
    }
    try {
      await fs.rename(tmp, dir);
      return { dir, unpacked: true, skipped: result.skipped };
    } catch (e) {
      if (!isErrno(e, "ENOTEMPTY", "EEXIST")) throw systemError(context, e);
      await fs.rm(tmp, { recursive: true, force: true });
      return { dir, unpacked: false, skipped: result.skipped };
    }
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (e) {
    if (isErrno(e, "ENOENT")) return false;
    throw e;
  }
}
