/**
 * Where a registry is and the URLs of the distribution API (distribution-spec `spec.md`):
 * `/v2/`, `/v2/<name>/manifests/<reference>`, `/v2/<name>/blobs/<digest>`,
 * `/v2/<name>/blobs/uploads/`. docker.io is served by `registry-1.docker.io`; loopback registries
 * are spoken to over plain HTTP, as Docker's default insecure-registries (127.0.0.0/8) does.
 */
import type { BentoConfig } from "../config.js";
import type { Digest } from "../store/digest.js";
import { DEFAULT_DOMAIN } from "../store/reference.js";

/** The host that serves docker.io's distribution API. */
export const DOCKER_HUB_REGISTRY = "registry-1.docker.io";

/** The host part of `domain` without the port: `localhost:5000` -> `localhost`, `[::1]:5000` -> `::1`. */
export function hostName(domain: string): string {
  if (domain.startsWith("[")) return domain.slice(1, domain.indexOf("]"));
  const colon = domain.lastIndexOf(":");
  return colon < 0 ? domain : domain.slice(0, colon);
}

/** True for `localhost`, `127.0.0.0/8` and `::1`, with any port. */
export function isLoopbackHost(domain: string): boolean {
  const name = hostName(domain).toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(name) || name === "::1";
}

/**
 * The base URL (scheme, host, port) of the registry a reference's domain names.
 *
 * @example
 * ```ts
 * registryBaseUrl("docker.io", cfg);       // "https://registry-1.docker.io"
 * registryBaseUrl("localhost:5000", cfg);  // "http://localhost:5000"
 * ```
 */
export function registryBaseUrl(domain: string, cfg: Pick<BentoConfig, "insecureRegistries">): string {
  if (domain === DEFAULT_DOMAIN) return `https://${DOCKER_HUB_REGISTRY}`;
  const plain = isLoopbackHost(domain) || cfg.insecureRegistries.has(domain) || cfg.insecureRegistries.has(hostName(domain));
  return `${plain ? "http" : "https"}://${domain}`;
}

/**
 * The base URLs to pull from, in order: the domain's mirrors (`BENTO_REGISTRY_MIRRORS`), then the
 * registry itself. Pushes go to the registry only.
 */
export function pullBaseUrls(domain: string, cfg: Pick<BentoConfig, "insecureRegistries" | "registryMirrors">): string[] {
  return [...(cfg.registryMirrors.get(domain) ?? []), registryBaseUrl(domain, cfg)];
}

/** `<base>/v2/<name>/manifests/<tag or digest>`. */
export function manifestUrl(base: string, name: string, reference: string): string {
  return `${base}/v2/${name}/manifests/${reference}`;
}

/** `<base>/v2/<name>/blobs/<digest>`. */
export function blobUrl(base: string, name: string, digest: Digest): string {
  return `${base}/v2/${name}/blobs/${digest}`;
}

/** `<base>/v2/<name>/blobs/uploads/`, with `?mount=<digest>&from=<repo>` for a cross-repository mount. */
export function uploadUrl(base: string, name: string, mount?: { digest: Digest; from: string }): string {
  const url = `${base}/v2/${name}/blobs/uploads/`;
  return mount === undefined ? url : `${url}?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}`;
}

/** The URL an upload's `Location` names (often relative), with `digest=<digest>` added to its query. */
export function uploadCompleteUrl(location: string, requestUrl: string, digest: Digest): string {
  const url = new URL(location, requestUrl);
  url.searchParams.append("digest", digest);
  return url.toString();
}

/** A token scope (distribution `docs/spec/auth/scope.md`): `repository:<name>:pull,push`. */
export function repositoryScope(name: string, actions: Array<"pull" | "push">): string {
  return `repository:${name}:${actions.join(",")}`;
}
