/**
 * Errors of the registry client. Each has a stable `code`, names the registry and the reference,
 * and says what to do; the facts are fields too (see shared/STYLE.md section 5).
 */
import { BentoError, type BentoErrorOptions } from "../errors.js";
import { ImageNotFoundError } from "../store/errors.js";

/** Where to put credentials, for messages. */
export function loginHint(host: string, dockerConfigFile: string): string {
  const key = host === "docker.io" ? "https://index.docker.io/v1/" : host;
  return `log in: add "auths": {"${key}": {"auth": "<base64 of user:password>"}} to ${dockerConfigFile} (~/.docker/config.json, or $DOCKER_CONFIG/config.json), or set BENTO_REGISTRY_AUTH='{"${host}":{"username":"...","password":"..."}}'`;
}

/**
 * The registry could not be reached: refused connection, unknown host, TLS failure, timeout.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof RegistryUnreachableError) console.log(e.host, e.url); }
 * ```
 */
export class RegistryUnreachableError extends BentoError {
  /** The host that could not be reached: the registry's (`registry-1.docker.io` for docker.io), a mirror's or its token service's. */
  readonly host: string;
  /** The URL that failed. */
  readonly url: string;
  /** The low-level error code, such as `ECONNREFUSED`, when there was one. */
  readonly causeCode: string | undefined;

  constructor(action: string, host: string, url: string, options: BentoErrorOptions = {}) {
    const cause = options.cause as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
    const inner = cause?.cause ?? cause;
    const code = typeof inner?.code === "string" ? inner.code : undefined;
    const detail = typeof inner?.message === "string" ? inner.message : String(inner);
    const tls = (code !== undefined && /CERT|SSL|TLS|EPROTO/i.test(code)) || /certificate|ssl|tls/i.test(detail);
    const fix = tls
      ? `if ${host} serves plain HTTP, add it to BENTO_INSECURE_REGISTRIES; if it uses a private CA, set NODE_EXTRA_CA_CERTS`
      : "check the host name and port, that the registry is running, and any proxy or firewall in between";
    super("ERR_REGISTRY_UNREACHABLE", `${action}: registry ${host} is unreachable at ${url}: ${detail}; ${fix}`, options);
    this.host = host;
    this.url = url;
    this.causeCode = code;
  }
}

/**
 * The registry refused the credentials, or asked for some and none were configured (401), or
 * denied the operation (403).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof RegistryAuthError) console.log(e.host, e.status); }
 * ```
 */
export class RegistryAuthError extends BentoError {
  /** The registry host. */
  readonly host: string;
  /** The HTTP status: 401 or 403. */
  readonly status: number;
  /** Whether credentials were sent. */
  readonly hadCredentials: boolean;

  constructor(action: string, host: string, status: number, details: { hadCredentials: boolean; registryMessage?: string; dockerConfigFile: string }, options: BentoErrorOptions = {}) {
    const said = details.registryMessage ? ` (${details.registryMessage})` : "";
    const what =
      status === 403
        ? `${host} denied access${said}; the account lacks permission for this repository, or ${details.hadCredentials ? "the credentials are wrong" : "it needs credentials"}`
        : details.hadCredentials
          ? `${host} rejected the credentials${said}; check the user name and password (or token)`
          : `${host} requires authentication${said}; the repository may not exist, or it needs credentials`;
    super("ERR_REGISTRY_AUTH", `${action}: ${status} ${status === 403 ? "Forbidden" : "Unauthorized"}: ${what}; ${loginHint(host, details.dockerConfigFile)}`, options);
    this.host = host;
    this.status = status;
    this.hadCredentials = details.hadCredentials;
  }
}

/**
 * The registry has no manifest for the tag or digest (or no such repository).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ManifestUnknownError) console.log(e.reference); }
 * ```
 */
export class ManifestUnknownError extends BentoError {
  /** The full reference, such as `localhost:5000/app:1`. */
  readonly reference: string;

  constructor(action: string, reference: string, registryMessage?: string, options: BentoErrorOptions = {}) {
    const said = registryMessage ? ` (${registryMessage})` : "";
    super("ERR_MANIFEST_UNKNOWN", `${action}: manifest for "${reference}" not found${said}; check the repository name and the tag or digest, and that it was pushed`, options);
    this.reference = reference;
  }
}

/**
 * An image index lists no manifest for the wanted platform.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof PlatformNotFoundError) console.log(e.platform, e.available); }
 * ```
 */
export class PlatformNotFoundError extends BentoError {
  /** The full reference. */
  readonly reference: string;
  /** The platform asked for, such as `linux/arm64/v8`. */
  readonly platform: string;
  /** The platforms the index offers. */
  readonly available: string[];

  constructor(reference: string, platform: string, available: string[]) {
    super("ERR_PLATFORM_NOT_FOUND", `pull ${reference}: the image has no manifest for ${platform} (it has ${available.length ? available.join(", ") : "none"}); pass { platform: "${available[0] ?? "linux/amd64"}" } or use another image`);
    this.reference = reference;
    this.platform = platform;
    this.available = available;
  }
}

/**
 * The registry answered something the client cannot use: an unexpected status, a malformed or
 * unsupported manifest (such as Docker's schema 1), a redirect loop.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof RegistryError) console.log(e.host, e.status); }
 * ```
 */
export class RegistryError extends BentoError {
  /** The registry host. */
  readonly host: string;
  /** The HTTP status, when the failure was one. */
  readonly status: number | undefined;

  constructor(message: string, host: string, status?: number, options: BentoErrorOptions = {}) {
    super("ERR_REGISTRY", message, options);
    this.host = host;
    this.status = status;
  }
}

/**
 * The image is not in the store and `BENTO_PULL_POLICY=never` (or `policy: "never"`) forbids
 * pulling it. An {@link ImageNotFoundError}, so callers that catch that catch this too.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ImageNotFoundError) console.log(e.reference); }
 * ```
 */
export class PullForbiddenError extends ImageNotFoundError {
  constructor(reference: string) {
    super(reference);
    this.message = `image "${reference}" is not in the store and the pull policy "never" (BENTO_PULL_POLICY) forbids pulling it; import or build it, or set BENTO_PULL_POLICY=missing`;
  }
}
