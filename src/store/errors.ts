/**
 * Errors of the image store. Each has a stable `code`; the facts are fields, not only words in the
 * message (see shared/STYLE.md section 5).
 */
import { BentoError, type BentoErrorOptions } from "../errors.js";

/**
 * No image matches the reference (a tag, a digest or an id).
 *
 * @example
 * ```ts
 * try { await store.inspect("nope:1"); } catch (e) { if (e instanceof ImageNotFoundError) console.log(e.reference); }
 * ```
 */
export class ImageNotFoundError extends BentoError {
  /** The reference as the caller gave it. */
  readonly reference: string;

  constructor(reference: string, options: BentoErrorOptions = {}) {
    super("ERR_IMAGE_NOT_FOUND", `image "${reference}" is not in the store; pull, build or import it first`, options);
    this.reference = reference;
  }
}

/**
 * A reference (`name[:tag][@digest]`) is malformed. Nothing was changed.
 *
 * @example
 * ```ts
 * await store.tag("alpine:3.20", "Bad Name"); // throws InvalidReferenceError
 * ```
 */
export class InvalidReferenceError extends BentoError {
  /** The reference as the caller gave it. */
  readonly reference: string;

  constructor(reference: string, reason: string) {
    super("ERR_INVALID_REFERENCE", `invalid image reference "${reference}": ${reason}`);
    this.reference = reference;
  }
}

/**
 * The image cannot be removed: containers use it, or (without `force`) it has several tags.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ImageInUseError) console.log(e.containers); }
 * ```
 */
export class ImageInUseError extends BentoError {
  /** The image id (`sha256:...`). */
  readonly imageId: string;
  /** Ids of the containers that use it. */
  readonly containers: string[];

  constructor(reference: string, imageId: string, containers: string[]) {
    super("ERR_IMAGE_IN_USE", `remove image "${reference}": it is used by container${containers.length === 1 ? "" : "s"} ${containers.join(", ")}; remove ${containers.length === 1 ? "it" : "them"} first`);
    this.imageId = imageId;
    this.containers = containers;
  }
}

/**
 * Removing an image by id would drop several tags; pass `{ force: true }` to do so.
 *
 * @example
 * ```ts
 * await store.removeImage(id, { force: true });
 * ```
 */
export class ImageConflictError extends BentoError {
  /** The tags that point at the image. */
  readonly tags: string[];

  constructor(reference: string, tags: string[]) {
    super("ERR_IMAGE_CONFLICT", `remove image "${reference}": it is tagged ${tags.join(", ")}; remove the tags, or pass { force: true }`);
    this.tags = tags;
  }
}

/**
 * Content did not hash to the digest that names it (a blob, or a layer's diff id).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof DigestMismatchError) console.log(e.expected, e.actual); }
 * ```
 */
export class DigestMismatchError extends BentoError {
  /** The digest the content should have had. */
  readonly expected: string;
  /** The digest it had. */
  readonly actual: string;

  constructor(what: string, expected: string, actual: string) {
    super("ERR_DIGEST_MISMATCH", `${what}: expected ${expected}, got ${actual}; the content is corrupt or was tampered with`);
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A layer archive tried to write outside the layer's root (`..`, an absolute name, or a symlinked
 * parent that leads out). Nothing was unpacked.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnsafeArchiveError) console.log(e.entry); }
 * ```
 */
export class UnsafeArchiveError extends BentoError {
  /** The tar entry name that was refused. */
  readonly entry: string;

  constructor(context: string, entry: string, reason: string) {
    super("ERR_UNSAFE_ARCHIVE", `${context}: entry "${entry}" ${reason}; refusing to unpack the archive`);
    this.entry = entry;
  }
}

/**
 * An archive, image layout or manifest is malformed or of a kind bento does not read.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof InvalidArchiveError) console.log(e.message); }
 * ```
 */
export class InvalidArchiveError extends BentoError {
  constructor(message: string, options: BentoErrorOptions = {}) {
    super("ERR_INVALID_ARCHIVE", message, options);
  }
}

/**
 * The store's lock stayed held by another process for longer than the timeout.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StoreLockTimeoutError) console.log(e.lockPath); }
 * ```
 */
export class StoreLockTimeoutError extends BentoError {
  /** The lock file. */
  readonly lockPath: string;

  constructor(lockPath: string, timeoutMs: number) {
    super("ERR_STORE_LOCK_TIMEOUT", `the store lock "${lockPath}" was held by another process for more than ${timeoutMs} ms; check for a hung bento process (fuser ${lockPath})`);
    this.lockPath = lockPath;
  }
}
