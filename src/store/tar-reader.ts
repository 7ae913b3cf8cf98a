/**
 * A sequential tar reader: one entry at a time, its body streamed, with nothing buffered beyond
 * the current chunk. Header blocks are decoded by the `tar` package's `Header`; PAX records are
 * parsed here because `tar`'s `Pax.parse` keeps only the standard keys and decodes values as
 * UTF-8, which would drop or corrupt `SCHILY.xattr.*` values (file capabilities are binary).
 * GNU-format headers (`ustar  \0` magic, as GNU tar writes) carry owner names and device numbers
 * that `Header` only reads for POSIX magic; those are read here too.
 */
import { tarPackage } from "../deps.js";
import { InvalidArchiveError } from "./errors.js";

/** The kinds of file system entries a layer can hold. */
export type TarEntryType = "file" | "dir" | "symlink" | "link" | "char" | "block" | "fifo";

/** One tar entry, with its PAX and GNU extensions applied. */
export interface TarEntry {
  /** The name as stored (not cleaned). */
  path: string;
  type: TarEntryType;
  /** Permission bits, including setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Body size in bytes (0 for everything but files). */
  size: number;
  /** Seconds since the epoch, possibly fractional (PAX). */
  mtime: number;
  /** Seconds since the epoch, when the archive records it. */
  atime: number | undefined;
  /** Symlink target, or the archive name a hardlink points at. */
  linkpath: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.<name>` records, values as raw bytes. */
  xattrs: Map<string, Buffer>;
  /** The body. Read it before asking for the next entry, or it is skipped. */
  body(): AsyncIterable<Buffer>;
}

const BLOCK = 512;
const MAX_META_BYTES = 1 << 20;
const GNU_MAGIC = Buffer.from("ustar  \0", "latin1");

/** Pulls exact byte counts out of an async chunk source. */
class ByteSource {
  readonly #chunks: AsyncIterator<Buffer>;
  #buffer = Buffer.alloc(0);
  #ended = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#chunks = source[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<void> {
    while (this.#buffer.length < n && !this.#ended) {
      const next = await this.#chunks.next();
      if (next.done) this.#ended = true;
      else this.#buffer = this.#buffer.length === 0 ? next.value : Buffer.concat([this.#buffer, next.value]);
    }
  }

  /** Exactly `n` bytes; fewer only at the end of the input. */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(out.length);
    return out;
  }

  /** Up to `n` bytes as they arrive; throws if the input ends first. */
  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    let remaining = n;
    while (remaining > 0) {
      if (this.#buffer.length === 0) await this.#fill(1);
      if (this.#buffer.length === 0) throw new InvalidArchiveError(`${what}: the archive is truncated`);
      const out = this.#buffer.subarray(0, Math.min(remaining, this.#buffer.length));
      this.#buffer = this.#buffer.subarray(out.length);
      remaining -= out.length;
      yield out;
    }
  }

  /** Reads and discards everything left (so a hash over the input covers it all). */
  async drain(): Promise<void> {
    this.#buffer = Buffer.alloc(0);
    while (!this.#ended) {
      const next = await this.#chunks.next();
      if (next.done) this.#ended = true;
    }
  }
}

/** Extended-header values, as parsed from PAX records or GNU long-name entries. */
interface Extended {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  atime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
  sparse?: boolean;
}

/**
 * Parses PAX records (`"<len> <key>=<value>\n"`) from raw bytes, so values stay binary-exact.
 */
export function parsePax(data: Buffer, into: Extended, what: string): Extended {
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const length = space < 0 ? NaN : Number(data.toString("latin1", pos, space));
    if (!Number.isInteger(length) || length <= space - pos + 1 || pos + length > data.length || data[pos + length - 1] !== 0x0a) {
      throw new InvalidArchiveError(`${what}: malformed PAX record at byte ${pos}`);
    }
    const record = data.subarray(space + 1, pos + length - 1);
    pos += length;
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new InvalidArchiveError(`${what}: PAX record without "="`);
    const key = record.toString("utf8", 0, eq);
    const value = record.subarray(eq + 1);
    const text = (): string => value.toString("utf8");
    const number = (): number => {
      const n = Number(text());
      if (!Number.isFinite(n)) throw new InvalidArchiveError(`${what}: PAX ${key}="${text()}" is not a number`);
      return n;
    };
    if (key.startsWith("SCHILY.xattr.")) {
      (into.xattrs ??= new Map()).set(key.slice("SCHILY.xattr.".length), Buffer.from(value));
    } else if (key.startsWith("GNU.sparse.")) {
      into.sparse = true;
    } else {
      switch (key) {
        case "path":
          into.path = text();
          break;
        case "linkpath":
          into.linkpath = text();
          break;
        case "size":
          into.size = number();
          break;
        case "uid":
          into.uid = number();
          break;
        case "gid":
          into.gid = number();
          break;
        case "mtime":
          into.mtime = number();
          break;
        case "atime":
          into.atime = number();
          break;
        case "SCHILY.devmajor":
          into.devmajor = number();
          break;
        case "SCHILY.devminor":
          into.devminor = number();
          break;
        default:
          break;
      }
    }
  }
  return into;
}

function octal(block: Buffer, offset: number, length: number): number {
  const text = block
    .toString("latin1", offset, offset + length)
    .replace(/\0.*$/s, "")
    .trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function cString(block: Buffer, offset: number, length: number): string {
  return block.toString("utf8", offset, offset + length).replace(/\0.*$/s, "");
}

const ENTRY_TYPES: Record<string, TarEntryType | undefined> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Directory: "dir",
  GNUDumpDir: "dir",
  SymbolicLink: "symlink",
  Link: "link",
  CharacterDevice: "char",
  BlockDevice: "block",
  FIFO: "fifo",
};

/**
 * Reads tar entries from uncompressed tar bytes. After the end-of-archive marker the rest of the
 * input is read and discarded, so a digest computed over the input covers every byte.
 *
 * @param what names the archive in errors, such as `layer sha256:...`.
 */
export async function* readTar(source: AsyncIterable<Buffer>, what: string): AsyncGenerator<TarEntry> {
  const input = new ByteSource(source);
  let extended: Extended = {};
  let global: Extended = {};
  let sawBlock = false;
  for (;;) {
    const block = await input.read(BLOCK);
    if (block.length === 0) {
      if (!sawBlock) throw new InvalidArchiveError(`${what}: the archive is empty (not even an end-of-archive marker)`);
      break;
    }
    if (block.length < BLOCK) throw new InvalidArchiveError(`${what}: the archive is truncated inside a header`);
    sawBlock = true;
    const header = new (tarPackage().Header)(block);
    if (header.nullBlock) {
      // Two zero blocks end the archive; many writers stop after one, or pad further.
      await input.drain();
      break;
    }
    if (!header.cksumValid) throw new InvalidArchiveError(`${what}: bad header checksum (not a tar archive, or corrupt)`);
    const typeName = header.type;
    const headerSize = header.size ?? 0;
    const size = typeName === "Directory" ? 0 : (extended.size ?? global.size ?? headerSize);
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    const readMeta = async (): Promise<Buffer> => {
      if (size > MAX_META_BYTES) throw new InvalidArchiveError(`${what}: a ${size}-byte extended header is too large`);
      const data = await input.read(padded);
      if (data.length < padded) throw new InvalidArchiveError(`${what}: the archive is truncated inside an extended header`);
      return data.subarray(0, size);
    };
    switch (typeName) {
      case "ExtendedHeader":
      case "OldExtendedHeader":
        parsePax(await readMeta(), extended, what);
        continue;
      case "GlobalExtendedHeader":
        global = parsePax(await readMeta(), { ...global }, what);
        continue;
      case "NextFileHasLongPath":
      case "OldGnuLongPath":
        extended.path = cString(await readMeta(), 0, size);
        continue;
      case "NextFileHasLongLinkpath":
        extended.linkpath = cString(await readMeta(), 0, size);
        continue;
      default:
        break;
    }

    const type = ENTRY_TYPES[typeName ?? ""];
    const ext = extended;
    extended = {};
    if (typeName === "SparseFile" || ext.sparse) {
      throw new InvalidArchiveError(`${what}: entry "${ext.path ?? header.path}" is a sparse file, which bento does not unpack`);
    }
    if (type === undefined) {
      // Vendor types (Solaris ACLs, tape volume headers, ...) carry no file; skip their data.
      for await (const _ of input.take(padded, what)) void _;
      continue;
    }
    const gnu = block.subarray(257, 265).equals(GNU_MAGIC);
    const entryPath = ext.path ?? header.path ?? "";
    const entry: TarEntry = {
      path: entryPath,
      type,
      mode: (header.mode ?? 0) & 0o7777,
      uid: ext.uid ?? global.uid ?? header.uid ?? 0,
      gid: ext.gid ?? global.gid ?? header.gid ?? 0,
      size: type === "file" ? size : 0,
      mtime: ext.mtime ?? global.mtime ?? (header.mtime ? header.mtime.getTime() / 1000 : 0),
      atime: ext.atime ?? global.atime,
      linkpath: ext.linkpath ?? header.linkpath ?? "",
      devmajor: ext.devmajor ?? (gnu ? octal(block, 329, 8) : (header.devmaj ?? 0)),
      devminor: ext.devminor ?? (gnu ? octal(block, 337, 8) : (header.devmin ?? 0)),
      xattrs: new Map([...(global.xattrs ?? []), ...(ext.xattrs ?? [])]),
      body: () => body,
    };
    let consumed = false;
    let delivered = 0;
    const bodyBytes = type === "file" ? size : 0;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        if (consumed) throw new Error(`${what}: the body of "${entryPath}" was already read`);
        consumed = true;
        return (async function* () {
          for await (const chunk of input.take(bodyBytes, what)) {
            delivered += chunk.length;
            yield chunk;
          }
        })();
      },
    };
    yield entry;
    // Skip whatever the consumer left unread (all of it when it never asked for the body).
    if (delivered < bodyBytes) for await (const _ of input.take(bodyBytes - delivered, what)) void _;
    const skip = padded - bodyBytes;
    if (skip > 0) {
      const pad = await input.read(skip);
      if (pad.length < skip) throw new InvalidArchiveError(`${what}: the archive is truncated after "${entryPath}"`);
    }
  }
}
