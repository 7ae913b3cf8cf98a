/**
 * A client for one registry's distribution API (OCI distribution-spec `spec.md`): ping, manifests
 * by tag or digest, blobs (following redirects to storage), monolithic uploads with cross-repository
 * mounts. Authentication follows the registry's `WWW-Authenticate` challenge: none, Basic, or the
 * Bearer token flow (distribution `docs/spec/auth/token.md`), with credentials from
 * {@link credentialsFor}.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { config as bentoConfig, type BentoConfig } from "../config.js";
import { isDigest, sha256, type Digest } from "../store/digest.js";
import { DigestMismatchError } from "../store/errors.js";
import { MediaType } from "../store/types.js";
import type { AuthChallenge } from "./auth-challenge.js";
import { credentialsFor, type Credential } from "./credentials.js";
import { blobUrl, manifestUrl, registryBaseUrl, repositoryScope, uploadCompleteUrl, uploadUrl } from "./endpoint.js";
import { ManifestUnknownError, RegistryAuthError, RegistryError, RegistryUnreachableError } from "./errors.js";
import type { RegistryClientOptions, FetchedManifest, ManifestHead, UploadOutcome } from "./client-types.js";
import { referenceSuffix, suffix, contentType, pickChallenge, registryMessage } from "./responses.js";

export type { RegistryClientOptions, FetchedManifest, ManifestHead, UploadOutcome } from "./client-types.js";

/** The manifest media types a pull accepts, most specific first. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest];

/** Docker's schema 1 manifests, which bento does not read. */
const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(prettyjws|json)$/;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 10;
const USER_AGENT = "bento (+https://github.com/bento)";

interface RequestOptions {
  /** The scopes a token must cover (Bearer), such as `repository:app:pull`. */
  scopes: string[];
  headers?: Record<string, string>;
  body?: Buffer | (() => Readable);
  /** Follow redirects by hand; Authorization goes only to the registry's own origin. */
  follow?: boolean;
  /** For messages: `pull localhost:5000/app:1`. */
  action: string;
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/**
 * A client for one registry. Holds the auth challenge it learned by the first ping and the
 * tokens it got, by scope.
 *
 * @example
 * ```ts
 * const client = new RegistryClient("localhost:5000");
 * const { bytes, mediaType } = await client.getManifest("app", "1", "pull localhost:5000/app:1");
 * ```
 */
export class RegistryClient {
  /** The registry as references name it: `docker.io`, `localhost:5000`. */
  readonly host: string;
  /** Scheme, host and port requests go to. */
  readonly baseUrl: string;
  readonly #config: BentoConfig;
  readonly #signal: AbortSignal | undefined;
  readonly #onRequest: ((method: string, url: string) => void) | undefined;
  #challenge: Promise<AuthChallenge | undefined> | undefined;
  #credential: Promise<Credential | undefined> | undefined;
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(host: string, options: RegistryClientOptions = {}) {
    this.host = host;
    this.#config = options.config ?? bentoConfig();
    this.baseUrl = (options.baseUrl ?? registryBaseUrl(host, this.#config)).replace(/\/$/, "");
    this.#signal = options.signal;
    this.#onRequest = options.onRequest;
  }

  /** The origin requests go to, for messages: the host, or the mirror's host. */
  get #where(): string {
    return new URL(this.baseUrl).host;
  }

  /**
   * Checks that the registry speaks the distribution API (`GET /v2/`) and learns how it wants
   * callers to authenticate. Run once, by the first request.
   */
  async ping(action = `ping ${this.host}`): Promise<void> {
    await this.#ping(action);
  }

  #ping(action: string): Promise<AuthChallenge | undefined> {
    this.#challenge ??= (async () => {
      const url = `${this.baseUrl}/v2/`;
      const res = await this.#fetch("GET", url, { headers: {}, action });
      await res.body?.cancel();
      if (res.status === 401) return pickChallenge(res.headers.get("www-authenticate"));
      if (res.ok) return undefined;
      throw new RegistryError(`${action}: ${url} answered ${res.status} ${res.statusText}; is ${this.#where} a registry (distribution API v2)?`, this.host, res.status);
    })();
    this.#challenge.catch(() => (this.#challenge = undefined));
    return this.#challenge;
  }

  /**
   * The manifest's digest, media type and size from `HEAD`, or undefined when the registry does
   * not send Docker-Content-Digest (then GET it).
   */
  async headManifest(name: string, reference: string, action: string): Promise<ManifestHead | undefined> {
    const res = await this.#request("HEAD", manifestUrl(this.baseUrl, name, reference), {
      scopes: [repositoryScope(name, ["pull"])],
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
      action,
    });
    // Some registries do not answer HEAD for manifests; the caller then GETs it.
    if (res.status === 400 || res.status === 405 || res.status === 501) return undefined;
    if (!res.ok) await this.#fail(res, action, `${this.host}/${name}${referenceSuffix(reference)}`, "manifest");
    const digest = res.headers.get("docker-content-digest") ?? "";
    const size = Number(res.headers.get("content-length"));
    if (!isDigest(digest) || !Number.isSafeInteger(size)) return undefined;
    return { digest, mediaType: contentType(res) ?? "", size };
  }

  /** Fetches a manifest or index by tag or digest; the bytes are verified against the digest. */
  async getManifest(name: string, reference: string, action: string): Promise<FetchedManifest> {
    const res = await this.#request("GET", manifestUrl(this.baseUrl, name, reference), {
      scopes: [repositoryScope(name, ["pull"])],
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
      action,
    });
    if (!res.ok) await this.#fail(res, action, `${this.host}/${name}${referenceSuffix(reference)}`, "manifest");
    const declared = Number(res.headers.get("content-length"));
    if (declared > MAX_MANIFEST_BYTES) {
      await res.body?.cancel();
      throw new RegistryError(`${action}: the manifest is ${declared} bytes, more than the ${MAX_MANIFEST_BYTES} bytes bento accepts`, this.host);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256(bytes);
    if (isDigest(reference) && reference !== digest) throw new DigestMismatchError(`${action}: manifest`, reference, digest);
    const header = res.headers.get("docker-content-digest");
    if (header !== null && isDigest(header) && header !== digest) throw new DigestMismatchError(`${action}: manifest (Docker-Content-Digest)`, header, digest);
    let parsed: { mediaType?: unknown; manifests?: unknown; config?: unknown; schemaVersion?: unknown };
    try {
      parsed = JSON.parse(bytes.toString("utf8")) as typeof parsed;
    } catch (e) {
      throw new RegistryError(`${action}: the manifest is not valid JSON`, this.host, undefined, { cause: e });
    }
    const type = contentType(res);
    const mediaType =
      typeof parsed.mediaType === "string"
        ? parsed.mediaType
        : type !== undefined && type !== "application/json"
          ? type
          : Array.isArray(parsed.manifests)
            ? MediaType.ociIndex
            : parsed.config !== undefined
              ? MediaType.ociManifest
              : (type ?? "");
    if (SCHEMA1.test(mediaType) || parsed.schemaVersion === 1) {
      throw new RegistryError(`${action}: the image has a Docker schema 1 manifest, which bento does not read; push it again with a current Docker or another OCI tool`, this.host);
    }
    if (!(MANIFEST_ACCEPT as readonly string[]).includes(mediaType)) {
      throw new RegistryError(`${action}: the registry sent a manifest of type "${mediaType}", not an image manifest or index`, this.host);
    }
    return { bytes, mediaType, digest };
  }

  /** Stores a manifest under a tag or its digest; returns the digest the registry reports. */
  async putManifest(name: string, reference: string, bytes: Buffer, mediaType: string, action: string): Promise<Digest> {
    const res = await this.#request("PUT", manifestUrl(this.baseUrl, name, reference), {
      scopes: [repositoryScope(name, ["pull", "push"])],
      headers: { "content-type": mediaType },
      body: bytes,
      action,
    });
    if (res.status !== 201 && !res.ok) await this.#fail(res, action, `${this.host}/${name}${referenceSuffix(reference)}`);
    await res.body?.cancel();
    const digest = sha256(bytes);
    const reported = res.headers.get("docker-content-digest");
    if (reported !== null && isDigest(reported) && reported !== digest) throw new DigestMismatchError(`${action}: manifest stored by the registry`, digest, reported);
    return digest;
  }

  /** True when the repository holds the blob (`HEAD`). */
  async hasBlob(name: string, digest: Digest, action: string, scopes = [repositoryScope(name, ["pull"])]): Promise<boolean> {
    const res = await this.#request("HEAD", blobUrl(this.baseUrl, name, digest), { scopes, action, follow: true });
    if (res.status === 404) return false;
    if (!res.ok) await this.#fail(res, action, `${this.host}/${name}@${digest}`);
    return true;
  }

  /**
   * Opens a blob for reading (following redirects to storage). The caller consumes the stream and
   * checks the digest; the stream fails if the blob grows past `size` bytes.
   */
  async openBlob(name: string, digest: Digest, size: number, action: string): Promise<Readable> {
    const res = await this.#request("GET", blobUrl(this.baseUrl, name, digest), {
      scopes: [repositoryScope(name, ["pull"])],
      // Blobs are compressed already; a transparent decompression would change the digest.
      headers: { "accept-encoding": "identity" },
      follow: true,
      action,
    });
    if (!res.ok) await this.#fail(res, action, `${this.host}/${name}@${digest}`, "blob");
    if (res.body === null) throw new RegistryError(`${action}: blob ${digest} came with no body`, this.host, res.status);
    const declared = res.headers.get("content-length");
    if (declared !== null && Number(declared) !== size) {
      await res.body.cancel();
      throw new DigestMismatchError(`${action}: blob ${digest}: size`, `${size} bytes`, `${declared} bytes (Content-Length)`);
    }
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  /**
   * Puts a blob into the repository unless it is there: `HEAD`, then a cross-repository mount
   * from each of `mountFrom` (repositories on this registry that hold it), then a monolithic
   * upload (`POST` then one `PUT ?digest=`).
   */
  async uploadBlob(name: string, blob: { digest: Digest; size: number; open: () => Readable }, action: string, mountFrom: string[] = []): Promise<UploadOutcome> {
    const pushScope = repositoryScope(name, ["pull", "push"]);
    if (await this.hasBlob(name, blob.digest, action, [pushScope])) return "exists";
    let location: { url: string; base: string } | undefined;
    for (const from of mountFrom) {
      if (from === name) continue;
      const url = uploadUrl(this.baseUrl, name, { digest: blob.digest, from });
      const res = await this.#request("POST", url, { scopes: [pushScope, repositoryScope(from, ["pull"])], action });
      await res.body?.cancel();
      if (res.status === 201) return "mounted";
      if (res.status === 202 && res.headers.get("location")) {
        // The registry could not mount and started an ordinary upload instead.
        location = { url: res.headers.get("location") as string, base: url };
        break;
      }
      if (res.status === 401 || res.status === 403) continue; // no pull access to the source: upload
      await this.#fail(res, action, `${this.host}/${name}`);
    }
    if (location === undefined) {
      const url = uploadUrl(this.baseUrl, name);
      const res = await this.#request("POST", url, { scopes: [pushScope], action, headers: { "content-length": "0" } });
      await res.body?.cancel();
      const where = res.headers.get("location");
      if (res.status !== 202 || where === null) {
        if (!res.ok) await this.#fail(res, action, `${this.host}/${name}`);
        throw new RegistryError(`${action}: starting an upload to ${this.host}/${name} answered ${res.status} without a Location`, this.host, res.status);
      }
      location = { url: where, base: url };
    }
    const put = await this.#request("PUT", uploadCompleteUrl(location.url, location.base, blob.digest), {
      scopes: [pushScope],
      headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
      body: blob.open,
      action,
    });
    await put.body?.cancel();
    if (put.status !== 201 && !put.ok) {
      // distribution answers 500 when it cannot delete an upload's scratch files after storing the
      // blob (two writers of one blob at once: its issues 1116, 1645); docker push retries then.
      if (put.status >= 500 && (await this.hasBlob(name, blob.digest, action, [pushScope]))) return "uploaded";
      await this.#fail(put, action, `${this.host}/${name}@${blob.digest}`);
    }
    const reported = put.headers.get("docker-content-digest");
    if (reported !== null && isDigest(reported) && reported !== blob.digest) throw new DigestMismatchError(`${action}: blob stored by the registry`, blob.digest, reported);
    return "uploaded";
  }

  // ---- requests and authentication ----

  /** One API request with authentication: a 401 naming a new scope or an expired token gets one retry. */
  async #request(method: string, url: string, options: RequestOptions): Promise<Response> {
    const challenge = await this.#ping(options.action);
    let auth = await this.#authorization(challenge, options.scopes, options.action, false);
    let res = await this.#send(method, url, options, auth);
    if (res.status === 401 && challenge !== undefined) {
      const again = pickChallenge(res.headers.get("www-authenticate"));
      if (again?.scheme === "bearer" && challenge.scheme === "bearer") {
        await res.body?.cancel();
        const scopes = [...new Set([...options.scopes, ...(again.params.scope ? again.params.scope.split(" ") : [])])];
        auth = await this.#authorization(again, scopes, options.action, true);
        res = await this.#send(method, url, options, auth);
      }
    }
    if (res.status === 401) {
      const message = await registryMessage(res);
      throw new RegistryAuthError(options.action, this.#where, 401, { hadCredentials: (await this.#credentials()) !== undefined, registryMessage: message, dockerConfigFile: this.#config.dockerConfigFile });
    }
    return res;
  }

  /** Sends the request, following redirects by hand when asked; Authorization only to the registry's origin. */
  async #send(method: string, url: string, options: RequestOptions, auth: string | undefined): Promise<Response> {
    const origin = new URL(this.baseUrl).origin;
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...options.headers };
      if (auth !== undefined && new URL(target).origin === origin) headers.authorization = auth;
      const res = await this.#fetch(method, target, { headers, body: options.body, action: options.action });
      const location = res.headers.get("location");
      if (!options.follow || ![301, 302, 303, 307, 308].includes(res.status) || location === null) return res;
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new RegistryError(`${options.action}: more than ${MAX_REDIRECTS} redirects from ${url}`, this.host, res.status);
      target = new URL(location, target).toString();
    }
  }

  async #fetch(method: string, url: string, options: { headers: Record<string, string>; body?: Buffer | (() => Readable); action: string }): Promise<Response> {
    this.#onRequest?.(method, url);
    const init: RequestInit & { duplex?: "half" } = {
      method,
      headers: { "user-agent": USER_AGENT, ...options.headers },
      redirect: "manual",
      signal: this.#signal,
    };
    if (Buffer.isBuffer(options.body)) init.body = options.body;
    else if (options.body !== undefined) {
      init.body = Readable.toWeb(options.body()) as unknown as ReadableStream<Uint8Array>;
      init.duplex = "half";
    }
    try {
      return await fetch(url, init);
    } catch (e) {
      if (this.#signal?.aborted) throw e;
      throw new RegistryUnreachableError(options.action, new URL(url).host, url, { cause: e });
    }
  }

  #credentials(): Promise<Credential | undefined> {
    this.#credential ??= credentialsFor(this.host, this.#config);
    this.#credential.catch(() => (this.#credential = undefined));
    return this.#credential;
  }

  /** The Authorization header for a request needing `scopes`, or undefined for anonymous access. */
  async #authorization(challenge: AuthChallenge | undefined, scopes: string[], action: string, refresh: boolean): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    const cred = await this.#credentials();
    if (challenge.scheme === "basic") {
      if (cred === undefined || cred.identityToken !== undefined) return undefined;
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
    }
    if (challenge.scheme !== "bearer") {
      throw new RegistryError(`${action}: ${this.#where} asks for "${challenge.scheme}" authentication, which bento does not speak (it speaks Basic and Bearer tokens)`, this.host, 401);
    }
    const key = `${challenge.params.realm} ${challenge.params.service ?? ""} ${[...scopes].sort().join(" ")}`;
    const cached = this.#tokens.get(key);
    if (cached && !refresh) {
      const token = await cached;
      if (token.expiresAtMs > Date.now() + 5_000) return `Bearer ${token.token}`;
    }
    const pending = this.#fetchToken(challenge, scopes, cred, action);
    this.#tokens.set(key, pending);
    pending.catch(() => this.#tokens.delete(key));
    return `Bearer ${(await pending).token}`;
  }

  /** The Bearer token flow: GET the realm (with Basic credentials if any), or POST an OAuth2 refresh token. */
  async #fetchToken(challenge: AuthChallenge, scopes: string[], cred: Credential | undefined, action: string): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${action}: ${this.#where} asked for a Bearer token without naming a realm`, this.host, 401);
    const url = new URL(realm, this.baseUrl);
    const service = challenge.params.service;
    let res: Response;
    if (cred?.identityToken !== undefined) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: cred.identityToken, client_id: "bento", access_type: "offline" });
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      res = await this.#fetch("POST", url.toString(), { headers: { "content-type": "application/x-www-form-urlencoded" }, body: Buffer.from(form.toString()), action });
    } else {
      if (service) url.searchParams.set("service", service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      if (cred) url.searchParams.set("account", cred.username);
      const headers: Record<string, string> = {};
      if (cred) headers.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
      res = await this.#fetch("GET", url.toString(), { headers, action });
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryAuthError(action, this.#where, res.status, { hadCredentials: cred !== undefined, registryMessage: await registryMessage(res), dockerConfigFile: this.#config.dockerConfigFile });
    }
    if (!res.ok) {
      throw new RegistryError(`${action}: the token service ${url.origin} answered ${res.status} ${res.statusText}${suffix(await registryMessage(res))}`, this.host, res.status);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${action}: the token service ${url.origin} answered without a token`, this.host, res.status);
    const lifetimeS = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
    return { token, expiresAtMs: Date.now() + lifetimeS * 1000 };
  }

  /** Turns a failed response into the error it means. */
  async #fail(res: Response, action: string, what: string, kind: "manifest" | "blob" | "other" = "other"): Promise<never> {
    const message = await registryMessage(res);
    if (res.status === 401 || res.status === 403) {
      throw new RegistryAuthError(action, this.#where, res.status, { hadCredentials: (await this.#credentials()) !== undefined, registryMessage: message, dockerConfigFile: this.#config.dockerConfigFile });
    }
    if (res.status === 404 && kind === "manifest") throw new ManifestUnknownError(action, what, message);
    if (res.status === 404 && kind === "blob") {
      throw new RegistryError(`${action}: ${what}: ${this.#where} lacks a blob the manifest names${suffix(message)}; the image in the registry is incomplete, push it again`, this.host, 404);
    }
    const hint = res.status === 429 ? "; the registry limits the pull rate: log in (anonymous limits are lower), wait, or use a mirror (BENTO_REGISTRY_MIRRORS)" : "";
    throw new RegistryError(`${action}: ${what}: ${this.#where} answered ${res.status} ${res.statusText}${suffix(message)}${hint}`, this.host, res.status);
  }
}
