/**
 * Layer compression: detected from the content's magic bytes (media types in the wild are not
 * reliable: `application/tar+gzip`, Docker's and OCI's names, or none at all).
 */
import { promises as fs } from "node:fs";
import type { Duplex } from "node:stream";
import { zlibModule } from "../deps.js";
import { InvalidArchiveError } from "./errors.js";

/** How a layer blob is compressed. */
export type Compression = "gzip" | "zstd" | "none";

/** Detects the compression of the first bytes of a blob. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

/** Reads the first bytes of a file and detects its compression. */
export async function detectFileCompression(path: string): Promise<Compression> {
  const handle = await fs.open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return detectCompression(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** A decompressing stream for `compression`, or undefined for none. */
export function decompressor(compression: Compression, what: string): Duplex | undefined {
  switch (compression) {
    case "gzip":
      return zlibModule().createGunzip();
    case "zstd": {
      // zlib gained zstd in Node 22.15; Node 20 cannot read these layers.
      const create = (zlibModule() as unknown as { createZstdDecompress?: () => Duplex }).createZstdDecompress;
      if (typeof create === "function") return create();
      throw new InvalidArchiveError(`${what}: the layer is zstd-compressed, which needs Node.js 22.15 or later (this is ${process.version})`);
    }
    case "none":
      return undefined;
  }
}

/** The OCI layer media type for a compression. */
export function layerMediaType(compression: Compression): string {
  switch (compression) {
    case "gzip":
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case "zstd":
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    case "none":
      return "application/vnd.oci.image.layer.v1.tar";
  }
}
