/**
 * ADD's remote sources: an http(s) URL is downloaded (never extracted, as Docker does) into a
 * temp file, hashed on the way; the hash is part of the step's cache key, so a changed file
 * invalidates the step. The file's time comes from `Last-Modified` when the server sends one.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

/** A downloaded file. */
export interface Download {
  /** sha256 (hex) of the content. */
  digest: string;
  size: number;
  /** From `Last-Modified`, when sent. */
  mtimeMs: number | undefined;
  /** The last name of the URL's path, which names the file when the destination is a directory. */
  fileName: string;
}

/**
 * True when an ADD source is a URL that bento downloads.
 *
 * @example
 * ```ts
 * isRemoteSource("https://example.com/tool.tar.gz"); // true
 * ```
 */
export function isRemoteSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Downloads `url` into `file`. Throws for a status other than 2xx, and for a `checksum`
 * (`sha256:<hex>`) that the content does not match.
 *
 * @example
 * ```ts
 * const { digest, fileName } = await download("http://127.0.0.1:8080/a.txt", "/tmp/x");
 * ```
 */
export async function download(url: string, file: string, checksum?: string): Promise<Download> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (e) {
    throw new Error(`cannot download ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  if (!response.ok || response.body === null) {
    throw new Error(`cannot download ${url}: the server answered ${response.status} ${response.statusText}`);
  }
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), tap, createWriteStream(file, { flags: "wx", mode: 0o600 }));
  const digest = hash.digest("hex");
  if (checksum !== undefined && checksum !== `sha256:${digest}`) {
    throw new Error(`the content of ${url} has the digest sha256:${digest}, not ${checksum} (--checksum)`);
  }
  const modified = response.headers.get("last-modified");
  const mtimeMs = modified === null ? undefined : Date.parse(modified);
  const pathname = new URL(url).pathname;
  const fileName = decodeURIComponent(pathname.slice(pathname.lastIndexOf("/") + 1));
  return { digest, size, mtimeMs: Number.isFinite(mtimeMs) ? mtimeMs : undefined, fileName };
}
