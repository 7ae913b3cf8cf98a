/**
 * Image references (`[domain/]path[:tag][@digest]`), parsed and normalized as Docker does:
 * `alpine` is `docker.io/library/alpine:latest`. Grammar from distribution/reference.
 */
import { isDigest, type Digest } from "./digest.js";
import { InvalidReferenceError } from "./errors.js";

/** The registry Docker assumes when a name has no domain. */
export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

/** A parsed, normalized image reference. */
export interface Reference {
  /** The registry host, such as `docker.io` or `localhost:5000`. */
  domain: string;
  /** The repository path, such as `library/alpine`. */
  path: string;
  /** The tag; `latest` when the reference had neither tag nor digest. */
  tag: string | undefined;
  /** The manifest digest, for `name@sha256:...` references. */
  digest: Digest | undefined;
}

/** `domain/path`, such as `docker.io/library/alpine`. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full reference text: `docker.io/library/alpine:3.20`. */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
}

/** The short name Docker shows: `docker.io/library/alpine` -> `alpine`, `docker.io/me/app` -> `me/app`. */
export function familiarName(repository: string): string {
  if (repository.startsWith(`${DEFAULT_DOMAIN}/${OFFICIAL_PREFIX}`)) {
    const rest = repository.slice(DEFAULT_DOMAIN.length + 1 + OFFICIAL_PREFIX.length);
    if (!rest.includes("/")) return rest;
  }
  if (repository.startsWith(`${DEFAULT_DOMAIN}/`)) return repository.slice(DEFAULT_DOMAIN.length + 1);
  return repository;
}

/** `familiarName` plus the tag: `alpine:3.20`. */
export function familiarReference(ref: Reference): string {
  return `${familiarName(repositoryName(ref))}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    return { domain: DEFAULT_DOMAIN, path: name };
  }
  return { domain: first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first, path: name.slice(slash + 1) };
}

/**
 * Parses and normalizes a reference. A reference with neither a tag nor a digest gets `latest`.
 * Throws {@link InvalidReferenceError} with the reason.
 *
 * @example
 * ```ts
 * parseReference("alpine"); // { domain: "docker.io", path: "library/alpine", tag: "latest", digest: undefined }
 * ```
 */
export function parseReference(text: string): Reference {
  if (typeof text !== "string" || text.length === 0) throw new InvalidReferenceError(String(text), "it is empty");
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw new InvalidReferenceError(text, `"${d}" is not a sha256 digest (sha256:<64 lowercase hex>)`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new InvalidReferenceError(text, `tag "${tag}" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -`);
    }
  }
  if (rest.length === 0) throw new InvalidReferenceError(text, "the repository name is empty");
  const { domain, path: rawPath } = splitDomain(rest);
  if (!DOMAIN.test(domain)) throw new InvalidReferenceError(text, `"${domain}" is not a valid registry host`);
  const path = domain === DEFAULT_DOMAIN && !rawPath.includes("/") ? `${OFFICIAL_PREFIX}${rawPath}` : rawPath;
  for (const component of path.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      const why = component.toLowerCase() !== component ? "repository names must be lowercase" : "use [a-z0-9] separated by '.', '_', '__' or '-'";
      throw new InvalidReferenceError(text, `path component "${component}" is invalid: ${why}`);
    }
  }
  if (domain.length + 1 + path.length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(text, `the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  return { domain, path, tag: tag ?? (digest === undefined ? "latest" : undefined), digest };
}

/** Parses a reference that must name a tag (no digest), as `tag()` targets do. */
export function parseTagReference(text: string): Reference & { tag: string } {
  const ref = parseReference(text);
  if (ref.digest !== undefined) throw new InvalidReferenceError(text, "a tag cannot include a digest");
  return ref as Reference & { tag: string };
}
