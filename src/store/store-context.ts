/**
 * The state a `Store`'s parts share: its directories, resolved options and in-memory
 * caches, and the one-time creation of the store's layout on first use. Internal; the parts
 * (blobs, refs, images, layers, removal, disk usage) take it as their first argument.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { Digest } from "./digest.js";
import { lstatIfExists, sweepTemps, tempName } from "./fs-util.js";
import type { ImageUsage } from "./image-usage.js";
import { isErrno, systemError } from "./native-fs.js";
import { MediaType, type ImageIndex, type LayerInfo } from "./types.js";
import { LAYER_TEMP_PREFIX } from "./unpack-layer.js";

/** `StoreOptions` with every default filled in. */
export interface ResolvedStoreOptions {
  usage: ImageUsage;
  lockTimeoutMs: number;
  privileged: boolean;
  overlayXattrNamespace: "trusted" | "user";
}

/** A store's shared state. */
export interface StoreContext {
  /** The store's root directory. */
  readonly root: string;
  /** `blobs/sha256/`. */
  readonly blobsDir: string;
  /** `layers/`. */
  readonly layersDir: string;
  /** `tmp/`. */
  readonly tmpDir: string;
  /** `containers/`. */
  readonly containersDir: string;
  /** `volumes/`. */
  readonly volumesDir: string;
  readonly options: ResolvedStoreOptions;
  /** Parsed manifests and configs by digest; blobs never change, so this never goes stale. */
  readonly documents: Map<Digest, unknown>;
  /** Which blob holds each diff id, for `Store.layerDir`. */
  readonly layerBlobs: Map<Digest, LayerInfo>;
  /** Layer unpacks in progress in this process, by diff id. */
  readonly unpacking: Map<Digest, Promise<string>>;
  /** Creates the store's directories and files unless they exist; once per context unless it fails. */
  init(): Promise<void>;
}

/** The context of the store in `root`; no I/O until `init()`. */
export function createStoreContext(root: string, options: ResolvedStoreOptions): StoreContext {
  let ready: Promise<void> | undefined;
  const ctx: StoreContext = {
    root,
    blobsDir: join(root, "blobs", "sha256"),
    layersDir: join(root, "layers"),
    tmpDir: join(root, "tmp"),
    containersDir: join(root, "containers"),
    volumesDir: join(root, "volumes"),
    options,
    documents: new Map(),
    layerBlobs: new Map(),
    unpacking: new Map(),
    async init(): Promise<void> {
      ready ??= (async () => {
        for (const dir of [ctx.blobsDir, ctx.layersDir, join(root, "refs"), join(root, "cache"), ctx.containersDir, ctx.volumesDir, ctx.tmpDir]) {
          await fs.mkdir(dir, { recursive: true });
        }
        await createIfMissing(ctx, join(root, "oci-layout"), `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
        await createIfMissing(ctx, join(root, "index.json"), `${JSON.stringify(emptyIndex())}\n`);
        await sweepTemps(ctx.tmpDir, "");
        await sweepTemps(ctx.layersDir, LAYER_TEMP_PREFIX);
      })();
      try {
        await ready;
      } catch (e) {
        ready = undefined;
        throw systemError(`open store "${root}"`, e);
      }
    },
  };
  return ctx;
}

/** An OCI image index with no manifests. */
export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** Creates `path` with `content` unless it exists: link(2) of a finished temp file fails with EEXIST instead of replacing. */
async function createIfMissing(ctx: StoreContext, path: string, content: string): Promise<void> {
  if (await lstatIfExists(path)) return;
  const tmp = join(ctx.tmpDir, tempName());
  await fs.writeFile(tmp, content);
  try {
    await fs.link(tmp, path);
  } catch (e) {
    if (!isErrno(e, "EEXIST")) throw e;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}
