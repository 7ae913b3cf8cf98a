/**
 * The OCI documents the store keeps (image-spec `descriptor.md`, `manifest.md`, `image-index.md`,
 * `config.md`), with Docker's extra config fields (Healthcheck, Shell, OnBuild), and the shapes
 * the store's methods return.
 * Over 400 lines: declarations only (no code), each field documented as the OCI spec defines it.
 */
import type { Digest } from "./digest.js";
import type { ImageStore } from "./image-store.js";

/** OCI media types the store writes and reads (image-spec `media-types.md`), and Docker's equivalents. */
export const MediaType = {
  /** An OCI image manifest. */
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  /** An OCI image index. */
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** An OCI image config. */
  ociConfig: "application/vnd.oci.image.config.v1+json",
  /** An uncompressed layer tar. */
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  /** A gzip layer tar. */
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** A zstd layer tar (needs Node.js 22.15+ to read). */
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  /** Docker's image manifest (v2 schema 2). */
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** Docker's manifest list. */
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker's image config. */
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  /** Docker's uncompressed layer. */
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  /** Docker's gzip layer. */
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** The annotation naming an image in an OCI layout's index.json (image-spec `annotations.md`). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** The annotation containerd and Docker use for the full image name in an archive. */
export const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";

/** A target platform (image-spec `image-index.md`). */
export interface Platform {
  /** CPU architecture in Go's names: `amd64`, `arm64`. */
  architecture: string;
  /** Operating system: `linux`. */
  os: string;
  /** Operating system version (Windows). */
  "os.version"?: string;
  /** Required OS features (Windows). */
  "os.features"?: string[];
  /** CPU variant, such as `v8` for arm64. */
  variant?: string;
}

/** A content descriptor (image-spec `descriptor.md`). */
export interface Descriptor {
  /** The media type of the content it points at. */
  mediaType: string;
  /** The content's digest. */
  digest: Digest;
  /** The content's size in bytes. */
  size: number;
  /** Where else the content can be fetched. */
  urls?: string[];
  /** Free-form metadata, such as the image name in an index. */
  annotations?: Record<string, string>;
  /** The platform of the image it points at, in an index. */
  platform?: Platform;
}

/** An image manifest (OCI, or Docker's v2 schema 2, which has the same shape). */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: 2;
  /** The manifest's own media type (optional in OCI). */
  mediaType?: string;
  /** The image config blob. */
  config: Descriptor;
  /** The layer blobs, base first. */
  layers: Descriptor[];
  /** Free-form metadata. */
  annotations?: Record<string, string>;
}

/** An image index (OCI) or manifest list (Docker). */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** The index's own media type. */
  mediaType?: string;
  /** The manifests (or nested indexes) it lists. */
  manifests: Descriptor[];
  /** Free-form metadata. */
  annotations?: Record<string, string>;
}

/**
 * Docker's health check settings; durations are nanoseconds, as in Docker's config.
 *
 * @example
 * ```ts
 * (await store.inspect("postgres:16")).config.Healthcheck; // { Test: ["CMD-SHELL", "pg_isready"], Interval: 5000000000 }
 * ```
 */
export interface HealthConfig {
  /** `["NONE"]`, `["CMD", ...argv]` or `["CMD-SHELL", command]`. */
  Test?: string[];
  /** Time between checks (ns). */
  Interval?: number;
  /** Time a check may take (ns). */
  Timeout?: number;
  /** Grace period after start during which failures do not count (ns). */
  StartPeriod?: number;
  /** Time between checks during the start period (ns). */
  StartInterval?: number;
  /** Consecutive failures that make the container unhealthy. */
  Retries?: number;
}

/**
 * The runtime settings in an image config (OCI `config`, with Docker's extra fields).
 *
 * @example
 * ```ts
 * const { Entrypoint, Cmd, Env } = (await store.inspect("alpine:3.20")).config;
 * ```
 */
export interface ContainerConfig {
  /** `user[:group]` the process runs as. */
  User?: string;
  /** Ports, as keys such as `8080/tcp`. */
  ExposedPorts?: Record<string, object>;
  /** `KEY=value` strings. */
  Env?: string[];
  /** The entrypoint argv. */
  Entrypoint?: string[] | null;
  /** The default arguments (or command). */
  Cmd?: string[] | null;
  /** Volume mount points, as keys. */
  Volumes?: Record<string, object>;
  /** The working directory. */
  WorkingDir?: string;
  /** Labels. */
  Labels?: Record<string, string>;
  /** The signal that stops the container. */
  StopSignal?: string;
  /** Docker (Windows): whether the command line is already escaped. */
  ArgsEscaped?: boolean;
  /** Docker: the image's HEALTHCHECK. */
  Healthcheck?: HealthConfig;
  /** Docker: the SHELL used for shell-form RUN, CMD and ENTRYPOINT. */
  Shell?: string[];
  /** Docker: ONBUILD triggers. */
  OnBuild?: string[] | null;
  /** Fields this type does not name are kept as they are. */
  [key: string]: unknown;
}

/**
 * One step of an image's history.
 *
 * @example
 * ```ts
 * for (const h of (await store.inspect("alpine:3.20")).history) console.log(h.created_by, h.empty_layer ? "" : "(layer)");
 * ```
 */
export interface HistoryEntry {
  /** When the step ran (RFC 3339). */
  created?: string;
  /** The instruction, such as `RUN apt-get update`. */
  created_by?: string;
  /** Who made it. */
  author?: string;
  /** A free-form comment. */
  comment?: string;
  /** True when the step made no layer (config-only instructions). */
  empty_layer?: boolean;
}

/**
 * The fields of an image config a writer supplies (everything but `rootfs`); unknown fields are kept.
 *
 * @example
 * ```ts
 * const fields: OciImageConfigFields = { config: { Cmd: ["/app"] }, history: [{ created_by: "COPY app /app" }] };
 * ```
 */
export interface OciImageConfigFields {
  /** When the image was created (RFC 3339). */
  created?: string;
  /** Who made it. */
  author?: string;
  /** Defaults to this machine's architecture in {@link ImageStore.writeImage}. */
  architecture?: string;
  /** Defaults to `linux` in {@link ImageStore.writeImage}. */
  os?: string;
  /** CPU variant, such as `v8`. */
  variant?: string;
  /** Operating system version (Windows). */
  "os.version"?: string;
  /** The runtime settings. */
  config?: ContainerConfig;
  /** One entry per build step, layer-making or not. */
  history?: HistoryEntry[];
  /** Fields this type does not name are kept as they are. */
  [key: string]: unknown;
}

/** An image config (image-spec `config.md`); unknown fields are kept as they are. */
export interface OciImageConfig extends OciImageConfigFields {
  /** CPU architecture, such as `amd64`. */
  architecture: string;
  /** Operating system, `linux`. */
  os: string;
  /** The layers' uncompressed content, in order. */
  rootfs: {
    /** Always `layers`. */
    type: "layers";
    /** The diff ids (digests of the uncompressed layer tars), base first. */
    diff_ids: Digest[];
  };
}

/** One layer of an image: its blob and what the blob unpacks to. */
export interface LayerInfo {
  /** Digest of the blob as stored (compressed or not). */
  digest: Digest;
  /** Digest of the uncompressed tar. */
  diffId: Digest;
  /** Blob size in bytes. */
  size: number;
  /** The blob's media type, such as `application/vnd.oci.image.layer.v1.tar+gzip` or a Docker layer type. */
  mediaType: string;
}

/** An image as {@link ImageStore.resolve} finds it. */
export interface ResolvedImage {
  /** The image id: the digest of its config. */
  id: Digest;
  /** The digest of the manifest that names it. */
  manifestDigest: Digest;
  /** The manifest, parsed. */
  manifest: ImageManifest;
  /** The config, parsed. */
  config: OciImageConfig;
  /** Base first, as in the manifest. */
  layers: LayerInfo[];
  /** Full references of the tags that point at this manifest. */
  tags: string[];
}

/** One row of {@link ImageStore.images}: an image and one of its tags, or `<none>`. */
export interface ImageSummary {
  /** The repository in Docker's short form (`alpine`), or `<none>`. */
  repository: string;
  /** The tag, or `<none>`. */
  tag: string;
  /** The image id. */
  id: Digest;
  /** The manifest's digest. */
  manifestDigest: Digest;
  /** Every tag of the image, in Docker's short form. */
  repoTags: string[];
  /** When the image was created (from its config), if recorded. */
  created: string | undefined;
  /** Bytes of the manifest, config and layer blobs. */
  sizeBytes: number;
}

/** What {@link ImageStore.inspect} reports. */
export interface ImageInspect {
  /** The image id: the digest of its config. */
  id: Digest;
  /** The manifest's digest. */
  manifestDigest: Digest;
  /** Its tags, in Docker's short form. */
  repoTags: string[];
  /** When it was created, if recorded. */
  created: string | undefined;
  /** CPU architecture. */
  architecture: string;
  /** Operating system. */
  os: string;
  /** The container settings (Env, Cmd, Entrypoint, Healthcheck, Shell, OnBuild, ...). */
  config: ContainerConfig;
  /** Layers, base first. */
  layers: LayerInfo[];
  /** One entry per build step, oldest first (empty when the config records none). */
  history: HistoryEntry[];
  /** Bytes of the manifest, config and layer blobs. */
  sizeBytes: number;
  /** The full config document. */
  rawConfig: OciImageConfig;
}

/**
 * What {@link ImageStore.writeImage} stores.
 *
 * @example
 * ```ts
 * const layer = await store.createLayerFromDir("/tmp/rootfs");
 * await store.writeImage({ config: { config: { Cmd: ["/bin/app"] } }, layers: [layer] }, { tags: ["app:dev"] });
 * ```
 */
export interface WriteImageInput {
  /**
   * The image config. As an object, its `rootfs` is set from `layers`; as bytes it is stored
   * exactly (so the image id is kept) and its `rootfs.diff_ids` must match `layers`.
   */
  config: OciImageConfigFields | Buffer;
  /** Base first; each blob must already be in the store (`putBlob`). */
  layers: LayerInfo[];
}

/**
 * The result of {@link ImageStore.writeImage}.
 *
 * @example
 * ```ts
 * const { id, manifestDigest } = await store.writeImage({ config: {}, layers });
 * ```
 */
export interface WrittenImage {
  /** The image id: the digest of its config. */
  id: Digest;
  /** The digest of the manifest written for it. */
  manifestDigest: Digest;
}

/**
 * A blob in the store.
 *
 * @example
 * ```ts
 * const { digest, size } = await store.putBlob(Buffer.from("hello"));
 * ```
 */
export interface BlobInfo {
  /** The blob's digest. */
  digest: Digest;
  /** Its size in bytes. */
  size: number;
}

/** What {@link ImageStore.removeImage} and {@link ImageStore.pruneImages} did. */
export interface RemoveResult {
  /** Tags removed (full references). */
  untagged: string[];
  /** Ids of the images whose last manifest was removed. */
  deleted: Digest[];
  /** Bytes freed (blobs and unpacked layers). */
  reclaimedBytes: number;
}

/** One part of {@link DiskUsage}. */
export interface UsageCount {
  /** How many (images, blobs, layer directories, ...). */
  count: number;
  /** Bytes on disk. */
  sizeBytes: number;
}

/** What {@link ImageStore.diskUsage} reports (bytes on disk; hardlinks counted once). */
export interface DiskUsage {
  /** Images, with the sum of their blob sizes (shared layers counted in each image). */
  images: UsageCount;
  /** `blobs/`: layer tars, configs, manifests. */
  blobs: UsageCount;
  /** `layers/`: unpacked layers. */
  layers: UsageCount;
  /** `containers/`: upper dirs, logs, state. */
  containers: UsageCount;
  /** `volumes/`. */
  volumes: UsageCount;
  /** `cache/`: build-cache records. */
  cache: UsageCount;
  /** Bytes `pruneImages({ dangling: true })` would free. */
  reclaimableBytes: number;
  /** Everything above except `images` (which counts the same blobs again). */
  totalBytes: number;
}

/** What `store.import()` brought in. */
export interface ImportResult {
  /** The images added: id, manifest digest, and tags in Docker's short form. */
  images: Array<{
    /** The image id: the digest of its config. */
    id: Digest;
    /** The digest of its manifest. */
    manifestDigest: Digest;
    /** Its tags from the archive, in Docker's short form. */
    tags: string[];
  }>;
  /** Manifests in the archive that were not images for this host (artifacts, other platforms), with the reason. */
  skipped: Array<{
    /** The digest of the skipped manifest or index. */
    digest: string;
    /** Why it was skipped, in words. */
    reason: string;
  }>;
}

/** Archive formats `store.export()` writes. */
export type ArchiveFormat = "oci" | "docker";
