/**
 * The options and results of a RegistryClient call: what a manifest fetch or HEAD gives, what an
 * upload did.
 */
import type { BentoConfig } from "../config.js";
import type { Digest } from "../store/digest.js";

/**
 * Options for {@link RegistryClient}.
 *
 * @example
 * ```ts
 * const client = new RegistryClient("docker.io", { baseUrl: "http://127.0.0.1:5001", onRequest: (m, url) => console.log(m, url) });
 * ```
 */
export interface RegistryClientOptions {
  /**
   * Settings (credentials, insecure registries); default the process's, read from `BENTO_*`
   * variables. For bento's pull, push and tests.
   *
   * @internal
   */
  config?: BentoConfig;
  /** The base URL to talk to instead of the domain's own (a mirror): `http://127.0.0.1:5001`. */
  baseUrl?: string;
  /** Aborts every request. */
  signal?: AbortSignal;
  /** Called for every HTTP request the client makes (method and URL), for logs and tests. */
  onRequest?: (method: string, url: string) => void;
}

/**
 * A manifest (or index) as fetched: its exact bytes, its media type and its digest.
 *
 * @example
 * ```ts
 * const { bytes, mediaType, digest } = await client.getManifest("library/alpine", "3.20", "pull alpine:3.20");
 * ```
 */
export interface FetchedManifest {
  /** The bytes as the registry sent them; their sha256 is the digest. */
  bytes: Buffer;
  /** From Content-Type, or the document's own `mediaType`. */
  mediaType: string;
  /** sha256 of the bytes (checked against the digest asked for and Docker-Content-Digest). */
  digest: Digest;
}

/**
 * What a HEAD of a manifest told.
 *
 * @example
 * ```ts
 * const head = await client.headManifest("app", "1", "check localhost:5000/app:1");
 * if (head !== undefined) console.log(head.digest, head.size);
 * ```
 */
export interface ManifestHead {
  /** The manifest's digest, from Docker-Content-Digest. */
  digest: Digest;
  /** Its media type, from Content-Type; `""` when the registry sent none. */
  mediaType: string;
  /** Its size in bytes, from Content-Length. */
  size: number;
}

/**
 * How a blob got into the registry: it was already there, it was mounted from another repository
 * of the same registry, or its bytes were uploaded.
 *
 * @example
 * ```ts
 * const outcome = await client.uploadBlob("app", { digest, size, open }, "push app:1", ["base"]); // "mounted"
 * ```
 */
export type UploadOutcome = "exists" | "mounted" | "uploaded";
