/**
 * Reads what the dynamic loader reads from an ELF file: its class, byte order and machine, the
 * program interpreter (PT_INTERP), and from the dynamic section the needed libraries (DT_NEEDED)
 * and search paths (DT_RPATH, DT_RUNPATH). Only the headers and the string table are read, never
 * the whole file (see elf(5); the dynamic string table is found through the PT_LOAD segment that
 * maps DT_STRTAB's address, as the loader finds it in memory).
 */
import { closeSync, openSync, readSync } from "node:fs";

/** The loader-relevant facts of one ELF file. */
export interface ElfInfo {
  /** 32 or 64 (EI_CLASS). */
  bits: 32 | 64;
  /** Byte order (EI_DATA). */
  littleEndian: boolean;
  /** `e_machine` (62 is x86-64, 183 AArch64). */
  machine: number;
  /** The program interpreter (PT_INTERP), for dynamically linked executables. */
  interpreter?: string;
  /** DT_NEEDED names, in order. */
  needed: string[];
  /** DT_RPATH entries (colon-separated in the file), unexpanded. */
  rpath: string[];
  /** DT_RUNPATH entries, unexpanded. */
  runpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Reads `length` bytes at `position`; short reads give a shorter buffer. */
function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, got);
}

/** A reader of unsigned fields in one byte order and class. */
class Fields {
  constructor(
    private readonly little: boolean,
    private readonly wide: boolean,
  ) {}
  u16(b: Buffer, at: number): number {
    return this.little ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }
  u32(b: Buffer, at: number): number {
    return this.little ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }
  /** An address or offset: 8 bytes in ELF64, 4 in ELF32. */
  word(b: Buffer, at: number): number {
    if (!this.wide) return this.u32(b, at);
    return Number(this.little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));
  }
}

/**
 * The loader facts of `path`, or undefined when it is not an ELF file (a script, a text file).
 * Throws on a truncated or inconsistent ELF file, naming it.
 *
 * @example
 * ```ts
 * readElf("/usr/bin/node")?.needed; // ["libdl.so.2", "libstdc++.so.6", ...]
 * ```
 */
export function readElf(path: string): ElfInfo | undefined {
  const fd = openSync(path, "r");
  try {
    const ident = readAt(fd, 0, 64);
    if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const wide = ident[4] === 2;
    const little = ident[5] === 1;
    if ((ident[4] !== 1 && !wide) || (ident[5] !== 1 && ident[5] !== 2)) throw new Error(`"${path}": unknown ELF class or byte order`);
    const f = new Fields(little, wide);
    const machine = f.u16(ident, 18);
    const phoff = f.word(ident, wide ? 32 : 28);
    const phentsize = f.u16(ident, wide ? 54 : 42);
    const phnum = f.u16(ident, wide ? 56 : 44);
    const table = readAt(fd, phoff, phentsize * phnum);
    if (table.length < phentsize * phnum) throw new Error(`"${path}": truncated ELF program headers`);
    const segments: Segment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      segments.push(
        wide
          ? { type: f.u32(table, at), offset: f.word(table, at + 8), vaddr: f.word(table, at + 16), filesz: f.word(table, at + 32) }
          : { type: f.u32(table, at), offset: f.u32(table, at + 4), vaddr: f.u32(table, at + 8), filesz: f.u32(table, at + 16) },
      );
    }
    const info: ElfInfo = { bits: wide ? 64 : 32, littleEndian: little, machine, needed: [], rpath: [], runpath: [] };
    const interp = segments.find((s) => s.type === PT_INTERP);
    if (interp !== undefined) info.interpreter = readAt(fd, interp.offset, interp.filesz).toString("latin1").replace(/\0.*$/s, "");
    const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
    if (dynamic !== undefined) readDynamic(fd, path, f, wide, dynamic, segments, info);
    return info;
  } finally {
    closeSync(fd);
  }
}

function readDynamic(fd: number, path: string, f: Fields, wide: boolean, dynamic: Segment, segments: Segment[], info: ElfInfo): void {
  const entrySize = wide ? 16 : 8;
  const body = readAt(fd, dynamic.offset, dynamic.filesz);
  const entries: Array<[number, number]> = [];
  for (let at = 0; at + entrySize <= body.length; at += entrySize) {
    const tag = f.word(body, at);
    if (tag === 0) break;
    entries.push([tag, f.word(body, at + entrySize / 2)]);
  }
  const strtabAddress = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const strsz = entries.find(([t]) => t === DT_STRSZ)?.[1];
  if (strtabAddress === undefined || strsz === undefined) return;
  const load = segments.find((s) => s.type === PT_LOAD && strtabAddress >= s.vaddr && strtabAddress < s.vaddr + s.filesz);
  if (load === undefined) throw new Error(`"${path}": DT_STRTAB is outside every loaded segment`);
  const strings = readAt(fd, strtabAddress - load.vaddr + load.offset, strsz);
  const stringAt = (offset: number): string => {
    const end = strings.indexOf(0, offset);
    return strings.toString("utf8", offset, end < 0 ? strings.length : end);
  };
  const paths = (value: number): string[] =>
    stringAt(value)
      .split(":")
      .filter((p) => p !== "");
  for (const [tag, value] of entries) {
    if (tag === DT_NEEDED) info.needed.push(stringAt(value));
    else if (tag === DT_RPATH) info.rpath.push(...paths(value));
    else if (tag === DT_RUNPATH) info.runpath.push(...paths(value));
  }
}
