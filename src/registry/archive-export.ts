/**
 * Writes one image as a tar archive. Both formats are an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`, blobs copied byte for byte from the store); the `docker`
 * format adds the `manifest.json` that `docker load` reads, as `docker save` has written since
 * Docker 25, so one archive serves both kinds of reader. The archive is written to a temp name
 * beside `path` and renamed into place, so a failed export leaves no partial file.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestHex, type Digest } from "../store/digest.js";
import { commitAtomically, tempName } from "../store/fs-util.js";
import { familiarName, parseTagReference, repositoryName } from "../store/reference.js";
import type { ImageStore } from "../store/image-store.js";
import { encodeHeader, END_OF_ARCHIVE, padding } from "../store/tar-writer.js";
import { IMAGE_NAME_ANNOTATION, MediaType, REF_NAME_ANNOTATION, type Descriptor, type ImageIndex, type ResolvedImage } from "../store/types.js";

/** What to export: the image, the descriptor of its manifest, and the tags to name it by. */
export interface ExportInput {
  image: ResolvedImage;
  manifest: Descriptor;
  /** Full references. */
  tags: string[];
}

const FIXED_MTIME = 0;

function fileHeader(path: string, size: number): Buffer {
  return encodeHeader({ path, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: FIXED_MTIME });
}

function dirHeader(path: string): Buffer {
  return encodeHeader({ path, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: FIXED_MTIME });
}

async function* smallFile(path: string, data: Buffer): AsyncGenerator<Buffer> {
  yield fileHeader(path, data.length);
  yield data;
  yield padding(data.length);
}

async function* blobFile(store: ImageStore, digest: Digest, size: number): AsyncGenerator<Buffer> {
  yield fileHeader(`blobs/sha256/${digestHex(digest)}`, size);
  let sent = 0;
  for await (const chunk of createReadStream(store.blobPath(digest))) {
    sent += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (sent !== size) throw new Error(`export: blob ${digest} has ${sent} bytes, not ${size}`);
  yield padding(size);
}

async function* archive(store: ImageStore, input: ExportInput, format: "oci" | "docker"): AsyncGenerator<Buffer> {
  const { image, manifest } = input;
  yield* smallFile("oci-layout", Buffer.from(`${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`));
  yield dirHeader("blobs/");
  yield dirHeader("blobs/sha256/");
  const written = new Set<Digest>();
  const blobs: Array<[Digest, number]> = [[image.manifest.config.digest, image.manifest.config.size], ...image.layers.map((l): [Digest, number] => [l.digest, l.size]), [manifest.digest, manifest.size]];
  for (const [digest, size] of blobs) {
    if (written.has(digest)) continue;
    written.add(digest);
    yield* blobFile(store, digest, size);
  }
  const entries: Descriptor[] =
    input.tags.length === 0
      ? [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size }]
      : input.tags.map((full) => ({
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          size: manifest.size,
          annotations: { [IMAGE_NAME_ANNOTATION]: full, [REF_NAME_ANNOTATION]: parseTagReference(full).tag },
        }));
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries };
  yield* smallFile("index.json", Buffer.from(`${JSON.stringify(index)}\n`));
  if (format === "docker") {
    const repoTags = input.tags.map((full) => {
      const ref = parseTagReference(full);
      return `${familiarName(repositoryName(ref))}:${ref.tag}`;
    });
    const dockerManifest = [
      {
        Config: `blobs/sha256/${digestHex(image.id)}`,
        RepoTags: repoTags,
        Layers: image.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
      },
    ];
    yield* smallFile("manifest.json", Buffer.from(`${JSON.stringify(dockerManifest)}\n`));
  }
  yield END_OF_ARCHIVE;
}

/** Writes the archive to `path` (see the module comment). */
export async function exportArchive(store: ImageStore, input: ExportInput, path: string, format: "oci" | "docker"): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${tempName()}`);
  await commitAtomically(tmp, path, (file) => pipeline(Readable.from(archive(store, input, format)), createWriteStream(file, { flags: "wx", mode: 0o644 })));
}
