/**
 * Content digests (`sha256:<64 hex>`), as the OCI image spec defines them, and a stream tap that
 * hashes what passes through it.
 */
import type { Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { cryptoModule } from "../deps.js";

/** A content digest, `sha256:` followed by 64 lowercase hex digits. */
export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True when `value` is a sha256 digest in canonical form. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST.test(value);
}

/** The sha256 digest of `data`. */
export function sha256(data: Buffer | string): Digest {
  return `sha256:${cryptoModule().createHash("sha256").update(data).digest("hex")}`;
}

/** The hex part of a digest (`sha256:abc` -> `abc`). */
export function digestHex(digest: Digest): string {
  return digest.slice("sha256:".length);
}

/** A pass-through stream that hashes and counts the bytes it forwards. */
export class HashTap extends Transform {
  readonly #hash: Hash = cryptoModule().createHash("sha256");
  /** Bytes seen so far. */
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  /** The digest of everything that passed; call once, after the stream ended. */
  digest(): Digest {
    return `sha256:${this.#hash.digest("hex")}`;
  }
}
