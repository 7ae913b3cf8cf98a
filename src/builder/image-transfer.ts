/**
 * The seam between the build engine and the registry layer above it: a FROM the store lacks is
 * pulled (as the pull policy says), `Image.fromArchive()` imports an archive, and a build's
 * registry cache (`cacheFrom`, `cacheTo`) travels through the registry's transport. The registry's
 * `Store` module (registry/store.ts) installs both when it loads, as builder/index.ts installs
 * the build engine into image/build-engine.ts; `import "bento"` loads both.
 */
import type { PullPolicy } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import type { ImageStore } from "../store/image-store.js";
import type { ImportResult, ResolvedImage } from "../store/types.js";
import type { RemoteCacheBackend } from "./remote-cache.js";

/** What the builder asks of the registry layer. */
export interface ImageTransfer {
  /** The image `ref` names, pulled first as the pull policy (or `options.policy`) says. */
  ensure(store: ImageStore, ref: string, options: { policy?: PullPolicy }): Promise<ResolvedImage>;
  /** Imports a `docker save` tar, an OCI archive or an OCI layout directory into `store`. */
  importArchive(store: ImageStore, path: string): Promise<ImportResult>;
  /** The transport of registry build caches (registry/build-cache.ts, loaded on first use). */
  cacheBackend(): Promise<RemoteCacheBackend>;
}

let installed: ImageTransfer | undefined;

/** Installs the registry's transfers (called once by registry/store.ts when it loads). */
export function installImageTransfer(transfer: ImageTransfer): void {
  installed = transfer;
}

/** The installed transfers; an error that names the fix when the registry layer is not loaded. */
export function imageTransfer(call: string): ImageTransfer {
  if (installed === undefined) throw new InvalidOptionError(call, 'no registry is loaded; import the Image and Store from "bento" (which loads it) rather than from their source files');
  return installed;
}
