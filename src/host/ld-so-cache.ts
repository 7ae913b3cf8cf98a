/**
 * Reads glibc's `/etc/ld.so.cache` (written by ldconfig(8)): a table from library names
 * (sonames) to the paths ldconfig found them at. Both layouts are understood: the "new" format
 * (`glibc-ld.so.cache1.1`, the only one glibc 2.32+ writes) and the old `ld.so-1.7.0` table that
 * older ldconfig wrote in front of it; string offsets count from the start of the new header, as
 * glibc's `elf/dl-cache.c` reads them. The cache lists every architecture's libraries, so the
 * caller keeps only candidates whose ELF class and machine match the object that needs them (the
 * loader does the same with the entry flags).
 */
import { readFileSync } from "node:fs";
import { endianness } from "node:os";

const OLD_MAGIC = "ld.so-1.7.0";
const NEW_MAGIC = "glibc-ld.so.cache1.1";
const NEW_HEADER_SIZE = 48;
const NEW_ENTRY_SIZE = 24;
const OLD_ENTRY_SIZE = 12;

/** soname -> candidate paths, in the cache's order. */
export type LdSoCache = Map<string, string[]>;

/**
 * Parses the cache at `path`; an absent or unrecognized file gives an empty table (the loader
 * then falls back to its default directories, as glibc does).
 *
 * @example
 * ```ts
 * readLdSoCache("/etc/ld.so.cache").get("libc.so.6"); // ["/lib/x86_64-linux-gnu/libc.so.6"]
 * ```
 */
export function readLdSoCache(path: string): LdSoCache {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    return new Map();
  }
  return parseLdSoCache(data);
}

/**
 * Parses cache bytes (see {@link readLdSoCache}).
 *
 * @example
 * ```ts
 * parseLdSoCache(readFileSync("/etc/ld.so.cache")).size; // 120
 * ```
 */
export function parseLdSoCache(data: Buffer): LdSoCache {
  const table: LdSoCache = new Map();
  let start = 0;
  if (data.toString("latin1", 0, OLD_MAGIC.length) === OLD_MAGIC) {
    const oldCount = data.readUInt32LE(12);
    // The new table follows the old entries, aligned as ldconfig aligns it.
    start = align(16 + oldCount * OLD_ENTRY_SIZE, 8);
  }
  if (data.length < start + NEW_HEADER_SIZE || data.toString("latin1", start, start + NEW_MAGIC.length) !== NEW_MAGIC) return table;
  const little = endianness() === "LE";
  const u32 = (at: number): number => (little ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const count = u32(start + 20);
  const stringAt = (offset: number): string => {
    const from = start + offset;
    const end = data.indexOf(0, from);
    return data.toString("utf8", from, end < 0 ? data.length : end);
  };
  for (let i = 0; i < count; i++) {
    const at = start + NEW_HEADER_SIZE + i * NEW_ENTRY_SIZE;
    if (at + NEW_ENTRY_SIZE > data.length) break;
    const name = stringAt(u32(at + 4));
    const value = stringAt(u32(at + 8));
    const list = table.get(name);
    if (list === undefined) table.set(name, [value]);
    else list.push(value);
  }
  return table;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
