/**
 * Progress of a pull or push, one event per change of a blob's state (and, while bytes move, at
 * most one per {@link PROGRESS_STEP_BYTES}).
 */
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Digest } from "../store/digest.js";
import type { ImageStore } from "../store/image-store.js";

/** How far one blob of a pull or push has come. */
export interface TransferProgress {
  /** The full reference being pulled or pushed: `localhost:5000/app:1`. */
  reference: string;
  /** What the blob is. */
  kind: "index" | "manifest" | "config" | "layer";
  /** The blob's digest. */
  digest: Digest;
  /**
   * `exists`: already there (in the store for a pull, in the registry for a push), nothing moved;
   * `downloading`/`uploading`: bytes are moving; `downloaded`/`uploaded`: done and verified;
   * `mounted`: the registry copied it from another repository.
   */
  status: "exists" | "downloading" | "downloaded" | "uploading" | "uploaded" | "mounted";
  /** Bytes moved so far. */
  bytes: number;
  /** The blob's size. */
  totalBytes: number;
}

/** Called with each {@link TransferProgress}; exceptions it throws are ignored. */
export type ProgressListener = (event: TransferProgress) => void;

/** The step between two "bytes are moving" events. */
export const PROGRESS_STEP_BYTES = 1024 * 1024;

/** Calls the listener, never letting it break the transfer. */
export function emit(listener: ProgressListener | undefined, event: TransferProgress): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // a progress display's bug must not fail a pull
  }
}

/**
 * A pass-through that reports bytes as they go and fails once more than `limitBytes` passed (a
 * registry must not feed an endless stream into the store).
 */
export class ByteCounter extends Transform {
  bytes = 0;
  #reported = 0;
  readonly #limit: number;
  readonly #onBytes: (bytes: number) => void;
  readonly #overflow: () => Error;

  constructor(limitBytes: number, onBytes: (bytes: number) => void, overflow: () => Error) {
    super();
    this.#limit = limitBytes;
    this.#onBytes = onBytes;
    this.#overflow = overflow;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) {
      callback(this.#overflow());
      return;
    }
    if (this.bytes - this.#reported >= PROGRESS_STEP_BYTES) {
      this.#reported = this.bytes;
      this.#onBytes(this.bytes);
    }
    callback(null, chunk);
  }
}

/**
 * Streams a registry's blob `body` through `counter` into the store, checked against `expected`.
 * Both sides settle before a failure is reported, so the store's write has removed its temp file
 * by then (a pull that failed leaves nothing); the body's failure is the one reported.
 */
export async function storeBlobFrom(store: ImageStore, body: Readable, counter: ByteCounter, expected: { digest: Digest; size: number }): Promise<void> {
  const settled = await Promise.allSettled([pipeline(body, counter), store.putBlob(counter, expected)]);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}
