/**
 * The options objects of `Store`'s methods: open, removeImage, pruneImages, export, writeImage.
 */
import type { ImageUsage } from "./image-usage.js";
import type { ImageStore } from "./image-store.js";
import type { ArchiveFormat } from "./types.js";

/** Options for `Store.open()`. */
export interface StoreOptions {
  /** Who uses which image; by default read from `containers/<id>/config.json`. */
  usage?: ImageUsage;
  /** How long to wait for another process's store lock. Default 60 s. */
  lockTimeoutMs?: number;
  /**
   * Unpack with root's powers: owners from the archive, device nodes, `trusted.*` xattrs.
   * Default: true when running as root. Rootless unpacking keeps the caller as owner and skips
   * devices other than whiteouts.
   */
  privileged?: boolean;
  /**
   * The xattr namespace overlayfs uses for its opaque marker: `trusted` (the default as root),
   * or `user` for overlays mounted with `userxattr` (rootless, kernel 5.11+). Must match how
   * the runtime mounts the layers.
   */
  overlayXattrNamespace?: "trusted" | "user";
}

/** Options for {@link ImageStore.removeImage}. */
export interface RemoveImageOptions {
  /** Remove an image referenced by id or digest even if it has several tags. Never overrides use by a container. */
  force?: boolean;
}

/** Options for {@link ImageStore.pruneImages}. */
export interface PruneImagesOptions {
  /** Only untagged images (the default, as `docker image prune`); false: every image no container uses (`-a`). */
  dangling?: boolean;
}

/** Options for `store.export()`. */
export interface ExportOptions {
  /** `oci` (an OCI image layout archive) or `docker` (also readable by `docker load`). Default `oci`. */
  format?: ArchiveFormat;
}

/** Options for {@link ImageStore.writeImage}. */
export interface WriteImageOptions {
  /** Tags to point at the new image, in the same locked step. */
  tags?: string[];
}
