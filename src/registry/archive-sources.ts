/**
 * Where `importArchive` reads an archive's files from: a tar (`docker save` or an OCI archive,
 * optionally compressed), read once front to back with small members kept in memory and big
 * ones streamed (and hashed) to temp files in the store's `tmp/`, or an OCI image-layout directory.
 */
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import { join, posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decompressor, detectCompression, type Compression } from "../store/compression.js";
import { HashTap, type Digest } from "../store/digest.js";
import { tempName } from "../store/fs-util.js";
import type { ImageStore } from "../store/image-store.js";
import { readTar } from "../store/tar-reader.js";

/** Members up to this size are kept in memory; bigger ones go to a temp file. */
const SMALL_MEMBER_BYTES = 1 << 20;

/** A member's content: in memory, or in a temp file whose digest was computed on the way. */
export type Content = { kind: "buffer"; data: Buffer } | { kind: "file"; path: string; digest: Digest; size: number; owned: boolean };

/** Where the archive's files are read from. */
export interface ArchiveSource {
  /** The content of a member, following symlinks and hardlinks; undefined if absent. */
  get(name: string): Promise<Content | undefined>;
  /** Removes temp files not adopted into the store. */
  cleanup(): Promise<void>;
}

function normalizeMember(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/+$/, "");
}

export class TarSource implements ArchiveSource {
  readonly #members = new Map<string, Content | { kind: "link"; target: string }>();

  static async read(path: string, store: ImageStore): Promise<TarSource> {
    const source = new TarSource();
    const head = Buffer.alloc(4);
    const handle = await fs.open(path, "r");
    let compression: Compression;
    try {
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      compression = detectCompression(head.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
    const decompress = decompressor(compression, `archive ${path}`);
    const stream = decompress ? createReadStream(path).pipe(decompress) : createReadStream(path);
    try {
      for await (const entry of readTar(stream, `archive ${path}`)) {
        const name = normalizeMember(entry.path);
        if (entry.type === "symlink") {
          source.#members.set(name, { kind: "link", target: normalizeMember(posix.join(posix.dirname(name), entry.linkpath)) });
        } else if (entry.type === "link") {
          source.#members.set(name, { kind: "link", target: normalizeMember(entry.linkpath) });
        } else if (entry.type === "file") {
          if (entry.size <= SMALL_MEMBER_BYTES) {
            const chunks: Buffer[] = [];
            for await (const chunk of entry.body()) chunks.push(chunk);
            source.#members.set(name, { kind: "buffer", data: Buffer.concat(chunks) });
          } else {
            const tmp = join(store.tmpDir, tempName());
            const tap = new HashTap();
            source.#members.set(name, { kind: "file", path: tmp, digest: "sha256:", size: 0, owned: true });
            await pipeline(Readable.from(entry.body()), tap, createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
            source.#members.set(name, { kind: "file", path: tmp, digest: tap.digest(), size: tap.size, owned: true });
          }
        }
      }
    } catch (e) {
      await source.cleanup();
      throw e;
    } finally {
      stream.destroy();
    }
    return source;
  }

  async get(name: string): Promise<Content | undefined> {
    let key = normalizeMember(name);
    for (let hops = 0; hops < 16; hops++) {
      const member = this.#members.get(key);
      if (member === undefined || member.kind !== "link") return member;
      key = member.target;
    }
    return undefined;
  }

  async cleanup(): Promise<void> {
    for (const member of this.#members.values()) if (member.kind === "file") await fs.rm(member.path, { force: true });
  }
}

/** An OCI image-layout directory: only `oci-layout`, `index.json` and `blobs/sha256/<hex>` are read. */
export class LayoutSource implements ArchiveSource {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async get(name: string): Promise<Content | undefined> {
    const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    if (name !== "oci-layout" && name !== "index.json" && !blob) return undefined;
    const path = join(this.#dir, name);
    let stat;
    try {
      stat = await fs.stat(path);
    } catch {
      return undefined;
    }
    if (stat.size <= SMALL_MEMBER_BYTES) return { kind: "buffer", data: await fs.readFile(path) };
    const tap = new HashTap();
    await pipeline(createReadStream(path), tap, async function* (source: AsyncIterable<Buffer>) {
      for await (const _ of source) void _;
    });
    return { kind: "file", path, digest: tap.digest(), size: tap.size, owned: false };
  }

  async cleanup(): Promise<void> {}
}
