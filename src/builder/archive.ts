/**
 * ADD's local archives: detected by content (as Docker does, not by file name), decompressed and
 * extracted into the layer. gzip goes through zlib; bzip2, xz and zstd through the system's
 * `bzip2`, `xz` and `zstd` programs (no package in the tree reads them; Debian: apt-get install
 * bzip2 xz-utils zstd). A file that is not a tar after decompression is copied as it is.
 * Extraction is the store's (extract-tree.ts), which refuses entries that climb out of the
 * destination (`..`, absolute names, symlinked parents leading out).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, openSync, closeSync, readSync } from "node:fs";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { ApplyLayerOptions } from "../store/apply-layer.js";
import { extractTree } from "../store/extract-tree.js";
import { readTar } from "../store/tar-reader.js";

/** Where ADD extracts inside a layer: see {@link extractArchive}. */
export type ExtractWithin = Pick<ApplyLayerOptions, "under" | "lowerParent">;

/**
 * Rootless: told each extracted entry's host path, archive owner and name in the archive, to set
 * the owner from inside the user namespace once the layer is written (root sets it at once).
 */
export type DeferOwner = NonNullable<ApplyLayerOptions["deferOwner"]>;

/** How an archive is compressed. */
export type ArchiveCompression = "none" | "gzip" | "bzip2" | "xz" | "zstd";

const PROGRAMS: Record<"bzip2" | "xz" | "zstd", { program: string; package: string }> = {
  bzip2: { program: "bzip2", package: "bzip2" },
  xz: { program: "xz", package: "xz-utils" },
  zstd: { program: "zstd", package: "zstd" },
};

/**
 * The compression of a file from its first bytes.
 *
 * @example
 * ```ts
 * compressionOf(Buffer.from([0x1f, 0x8b, 8])); // "gzip"
 * ```
 */
export function compressionOf(head: Buffer): ArchiveCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 3 && head.toString("latin1", 0, 3) === "BZh") return "bzip2";
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

/**
 * True when a 512-byte block is a tar header: a valid header checksum (which old v7 archives
 * without the `ustar` magic have too).
 *
 * @example
 * ```ts
 * isTarHeader(firstBlock);
 * ```
 */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const stored = Number.parseInt(block.toString("latin1", 148, 156).replace(/\0.*$/s, "").trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum === stored;
}

interface Decompressed {
  stream: Readable;
  /** Resolves when the decompressor program (if any) ended well; rejects with its stderr otherwise. */
  done: Promise<void>;
  stop(): void;
}

function open(path: string, compression: ArchiveCompression): Decompressed {
  if (compression === "none" || compression === "gzip") {
    const file = createReadStream(path);
    const stream = compression === "gzip" ? file.pipe(createGunzip()) : file;
    if (stream !== file) file.on("error", (e) => stream.destroy(e));
    return { stream, done: Promise.resolve(), stop: () => (file.destroy(), stream.destroy()) };
  }
  const { program, package: pkg } = PROGRAMS[compression];
  const input = openSync(path, "r");
  let child: ChildProcess;
  try {
    child = spawn(program, ["-dc"], { stdio: [input, "pipe", "pipe"] });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(input);
  }
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  let stopped = false;
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (e: NodeJS.ErrnoException) => {
      reject(e.code === "ENOENT" ? new Error(`the archive is ${compression}-compressed and the "${program}" program is not installed (Debian: apt-get install ${pkg})`) : e);
    });
    child.on("close", (code) => {
      if (code === 0 || stopped) resolve();
      else reject(new Error(`${program} -dc failed (exit code ${code}): ${stderr.trim()}`));
    });
  });
  return {
    stream: child.stdout as Readable,
    done,
    stop: () => {
      stopped = true;
      child.kill("SIGKILL");
    },
  };
}

/**
 * Whether `path` is a tar archive (plain, or compressed as {@link compressionOf} detects), and how
 * it is compressed; undefined when it is not an archive.
 *
 * @example
 * ```ts
 * await archiveCompression("vendor.tar.xz"); // "xz"
 * ```
 */
export async function archiveCompression(path: string): Promise<ArchiveCompression | undefined> {
  const head = Buffer.alloc(512);
  const fd = openSync(path, "r");
  let bytes: number;
  try {
    bytes = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const compression = compressionOf(head.subarray(0, bytes));
  if (compression === "none") return isTarHeader(head.subarray(0, bytes)) ? "none" : undefined;
  const source = open(path, compression);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source.stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= 512) break;
    }
  } catch {
    return undefined;
  } finally {
    source.stop();
    await source.done.catch(() => undefined);
  }
  return isTarHeader(Buffer.concat(chunks).subarray(0, 512)) ? compression : undefined;
}

/**
 * Extracts the archive `path` into `destDir` as Docker's ADD does (chrooted into the
 * destination), keeping modes, times and owners (rootless through `deferOwner`). Symlinks are kept as they are, an
 * absolute target included: a symlink is data in the layer, resolved only inside the container.
 * A hardlink is made to the earlier entry it names; one to a name not in the archive, or a name
 * that leaves the destination (`..`, a symlinked parent leading out), fails the extraction.
 * With `within`, `destDir` is the layer's root and the names go under `within.under`, their
 * parents resolved through the image's symlinks as in the container (`ADD x.tar /` with `lib/x`
 * on an image whose /lib is a symlink to usr/lib writes usr/lib/x, as Docker does).
 *
 * @example
 * ```ts
 * await extractArchive("vendor.tar.gz", "gzip", "/tmp/layer/opt");
 * ```
 */
export async function extractArchive(path: string, compression: ArchiveCompression, destDir: string, within?: ExtractWithin, deferOwner?: DeferOwner): Promise<void> {
  const source = open(path, compression);
  try {
    await extractTree(readTar(source.stream, `archive ${basename(path)}`), destDir, `extract ${basename(path)}`, deferOwner, within);
  } catch (e) {
    source.stop();
    await source.done.catch(() => undefined);
    throw e;
  }
  await source.done;
}
