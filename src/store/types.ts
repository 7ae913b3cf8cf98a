/**
 * The OCI documents the store keeps (image-spec `descriptor.md`, `manifest.md`, `image-index.md`,
 * `config.md`), with Docker's extra config fields (Healthcheck, Shell, OnBuild), and the shapes
 * the store's methods return.
 */
import type { Digest } from "./digest.js";
import type { Store } from "./store.js";

/** OCI media types the store writes and reads. */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** The annotation naming an image in an OCI layout's index.json (image-spec `annotations.md`). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** The annotation containerd and Docker use for the full image name in an archive. */
export const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";

/** A target platform (image-spec `image-index.md`). */
export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

/** A content descriptor (image-spec `descriptor.md`). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An image manifest (OCI, or Docker's v2 schema 2, which has the same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index (OCI) or manifest list (Docker). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Docker's health check settings; durations are nanoseconds, as in Docker's config. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The runtime settings in an image config (OCI `config`, with Docker's extra fields). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  /** Docker: the image's HEALTHCHECK. */
  Healthcheck?: HealthConfig;
  /** Docker: the SHELL used for shell-form RUN, CMD and ENTRYPOINT. */
  Shell?: string[];
  /** Docker: ONBUILD triggers. */
  OnBuild?: string[] | null;
  [key: string]: unknown;
}

/** One step of an image's history. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The fields of an image config a writer supplies (everything but `rootfs`); unknown fields are kept. */
export interface OciImageConfigFields {
  created?: string;
  author?: string;
  /** Defaults to this machine's architecture in {@link Store.writeImage}. */
  architecture?: string;
  /** Defaults to `linux` in {@link Store.writeImage}. */
  os?: string;
  variant?: string;
  "os.version"?: string;
  config?: ContainerConfig;
  history?: HistoryEntry[];
  [key: string]: unknown;
}

/** An image config (image-spec `config.md`); unknown fields are kept as they are. */
export interface OciImageConfig extends OciImageConfigFields {
  architecture: string;
  os: string;
  rootfs: { type: "layers"; diff_ids: Digest[] };
}

/** One layer of an image: its blob and what the blob unpacks to. */
export interface LayerInfo {
  /** Digest of the blob as stored (compressed or not). */
  digest: Digest;
  /** Digest of the uncompressed tar. */
  diffId: Digest;
  /** Blob size in bytes. */
  size: number;
  mediaType: string;
}

/** An image as {@link Store.resolve} finds it. */
export interface ResolvedImage {
  /** The image id: the digest of its config. */
  id: Digest;
  /** The digest of the manifest that names it. */
  manifestDigest: Digest;
  manifest: ImageManifest;
  config: OciImageConfig;
  /** Base first, as in the manifest. */
  layers: LayerInfo[];
  /** Full references of the tags that point at this manifest. */
  tags: string[];
}

/** One row of {@link Store.images}: an image and one of its tags, or `<none>`. */
export interface ImageSummary {
  /** The repository in Docker's short form (`alpine`), or `<none>`. */
  repository: string;
  /** The tag, or `<none>`. */
  tag: string;
  id: Digest;
  manifestDigest: Digest;
  /** Every tag of the image, in Docker's short form. */
  repoTags: string[];
  /** When the image was created (from its config), if recorded. */
  created: string | undefined;
  /** Bytes of the manifest, config and layer blobs. */
  sizeBytes: number;
}

/** What {@link Store.inspect} reports. */
export interface ImageInspect {
  id: Digest;
  manifestDigest: Digest;
  repoTags: string[];
  created: string | undefined;
  architecture: string;
  os: string;
  /** The container settings (Env, Cmd, Entrypoint, Healthcheck, Shell, OnBuild, ...). */
  config: ContainerConfig;
  /** Layers, base first. */
  layers: LayerInfo[];
  history: HistoryEntry[];
  /** Bytes of the manifest, config and layer blobs. */
  sizeBytes: number;
  /** The full config document. */
  rawConfig: OciImageConfig;
}

/** What {@link Store.writeImage} stores. */
export interface WriteImageInput {
  /**
   * The image config. As an object, its `rootfs` is set from `layers`; as bytes it is stored
   * exactly (so the image id is kept) and its `rootfs.diff_ids` must match `layers`.
   */
  config: OciImageConfigFields | Buffer;
  /** Base first; each blob must already be in the store ({@link Store.putBlob}). */
  layers: LayerInfo[];
}

/** The result of {@link Store.writeImage}. */
export interface WrittenImage {
  id: Digest;
  manifestDigest: Digest;
}

/** A blob in the store. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What {@link Store.removeImage} and {@link Store.pruneImages} did. */
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
  count: number;
  sizeBytes: number;
}

/** What {@link Store.diskUsage} reports (bytes on disk; hardlinks counted once). */
export interface DiskUsage {
  images: UsageCount;
  blobs: UsageCount;
  layers: UsageCount;
  containers: UsageCount;
  volumes: UsageCount;
  cache: UsageCount;
  /** Bytes `pruneImages({ dangling: true })` would free. */
  reclaimableBytes: number;
  totalBytes: number;
}

/** What {@link Store.import} brought in. */
export interface ImportResult {
  images: Array<{ id: Digest; manifestDigest: Digest; tags: string[] }>;
  /** Manifests in the archive that were not images (artifacts), with the reason. */
  skipped: Array<{ digest: string; reason: string }>;
}

/** Archive formats {@link Store.export} writes. */
export type ArchiveFormat = "oci" | "docker";
