/**
 * Content-addressed blobs under `blobs/sha256/`: storing (hashed on the way in, fsync'd, renamed
 * into place), adopting a temp file, reading, and parsing JSON blobs once per store.
 */
import { constants, createWriteStream, promises as fs } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InvalidOptionError } from "../errors.js";
import { digestHex, HashTap, isDigest, sha256, type Digest } from "./digest.js";
import { DigestMismatchError, InvalidArchiveError } from "./errors.js";
import { lstatIfExists, readFileIfExists, tempName, writeFileAtomic } from "./fs-util.js";
import type { StoreContext } from "./store-context.js";
import type { BlobInfo } from "./types.js";

/** The file that holds the blob `digest` (which may not exist). */
export function blobPath(ctx: StoreContext, digest: Digest): string {
  if (!isDigest(digest)) throw new InvalidOptionError("digest", `"${String(digest)}" is not a sha256 digest`);
  return join(ctx.blobsDir, digestHex(digest));
}

/** Stores a blob, refusing content that differs from `expected`; see `Store.putBlob`. */
export async function putBlob(ctx: StoreContext, data: Buffer | Readable | AsyncIterable<Buffer>, expected: { digest?: Digest; size?: number }): Promise<BlobInfo> {
  await ctx.init();
  if (Buffer.isBuffer(data)) {
    const digest = sha256(data);
    checkBlob(digest, data.length, expected);
    const path = blobPath(ctx, digest);
    if (!(await lstatIfExists(path))) await writeFileAtomic(path, data, ctx.tmpDir);
    return { digest, size: data.length };
  }
  const tmp = join(ctx.tmpDir, tempName());
  const tap = new HashTap();
  try {
    const source = data instanceof Readable ? data : Readable.from(data);
    await pipeline(source, tap, createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
    const digest = tap.digest();
    checkBlob(digest, tap.size, expected);
    return await commitBlob(ctx, tmp, digest, tap.size);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function checkBlob(digest: Digest, size: number, expected: { digest?: Digest; size?: number }): void {
  if (expected.digest !== undefined && expected.digest !== digest) throw new DigestMismatchError("store blob", expected.digest, digest);
  if (expected.size !== undefined && expected.size !== size) {
    throw new DigestMismatchError(`store blob ${digest}: size`, `${expected.size} bytes`, `${size} bytes`);
  }
}

/** Moves a finished temp file (hashed by the caller) into `blobs/`, after an fsync. */
export async function commitBlob(ctx: StoreContext, tmp: string, digest: Digest, size: number): Promise<BlobInfo> {
  const path = blobPath(ctx, digest);
  if (!(await lstatIfExists(path))) {
    const handle = await fs.open(tmp, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  }
  return { digest, size };
}

/** True when the store holds the blob. */
export async function hasBlob(ctx: StoreContext, digest: Digest): Promise<boolean> {
  return (await lstatIfExists(blobPath(ctx, digest))) !== undefined;
}

/** Reads a whole blob; a missing one is an {@link InvalidArchiveError}. */
export async function readBlob(ctx: StoreContext, digest: Digest): Promise<Buffer> {
  const data = await readFileIfExists(blobPath(ctx, digest));
  if (data === undefined) throw new InvalidArchiveError(`blob ${digest} is missing from the store "${ctx.root}"`);
  return data;
}

/** A JSON blob, parsed once and then served from `ctx.documents`. */
export async function readJson<T>(ctx: StoreContext, digest: Digest): Promise<T> {
  const cached = ctx.documents.get(digest);
  if (cached !== undefined) return cached as T;
  const data = await readBlob(ctx, digest);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch (e) {
    throw new InvalidArchiveError(`blob ${digest} is not valid JSON`, { cause: e });
  }
  ctx.documents.set(digest, parsed);
  return parsed as T;
}
