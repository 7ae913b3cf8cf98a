/**
 * Encodes tar headers: a ustar block from the `tar` package's `Header`, preceded by a PAX
 * extended header when a field does not fit (long or non-ASCII names, big ids or sizes) or when
 * the entry has xattrs (`SCHILY.xattr.<name>`, values written byte-exact). The body and its
 * padding are the caller's to write, so file contents stream straight from disk.
 */
import { tarPackage } from "../deps.js";

/** What a header describes. */
export interface TarHeaderFields {
  path: string;
  type: "file" | "dir" | "symlink" | "link" | "char" | "block" | "fifo";
  /** Permission bits including setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Body size; 0 for everything but files. */
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written in this order. */
  xattrs?: Array<[string, Buffer]>;
}

const TYPE_NAMES = {
  file: "File",
  dir: "Directory",
  symlink: "SymbolicLink",
  link: "Link",
  char: "CharacterDevice",
  block: "BlockDevice",
  fifo: "FIFO",
} as const;

/** The zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(1024);

/** The zero bytes that pad a body of `size` bytes to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % 512;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(512 - rest);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), value, Buffer.from("\n")]);
  // The length prefix counts its own digits.
  let length = body.length + String(body.length).length;
  if (String(length).length !== String(body.length).length) length = body.length + String(length).length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;
const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** Encodes the header block(s) for one entry: an optional PAX header, then the ustar block. */
export function encodeHeader(fields: TarHeaderFields): Buffer {
  const linkpath = fields.linkpath ?? "";
  const header = new (tarPackage().Header)({
    path: fields.path,
    type: TYPE_NAMES[fields.type],
    mode: fields.mode & 0o7777,
    uid: Math.min(fields.uid, MAX_OCTAL_8),
    gid: Math.min(fields.gid, MAX_OCTAL_8),
    size: Math.min(fields.size, MAX_OCTAL_12),
    mtime: new Date(Math.max(0, Math.min(fields.mtime, MAX_OCTAL_12)) * 1000),
    linkpath,
    uname: "",
    gname: "",
    devmaj: Math.min(fields.devmajor ?? 0, MAX_OCTAL_8),
    devmin: Math.min(fields.devminor ?? 0, MAX_OCTAL_8),
  });
  const block = Buffer.alloc(512);
  const needPax = header.encode(block);

  const records: Buffer[] = [];
  if (needPax || !isAscii(fields.path)) records.push(paxRecord("path", Buffer.from(fields.path, "utf8")));
  if (linkpath.length > 100 || !isAscii(linkpath)) records.push(paxRecord("linkpath", Buffer.from(linkpath, "utf8")));
  if (fields.uid > MAX_OCTAL_8) records.push(paxRecord("uid", Buffer.from(String(fields.uid))));
  if (fields.gid > MAX_OCTAL_8) records.push(paxRecord("gid", Buffer.from(String(fields.gid))));
  if (fields.size > MAX_OCTAL_12) records.push(paxRecord("size", Buffer.from(String(fields.size))));
  if ((fields.devmajor ?? 0) > MAX_OCTAL_8) records.push(paxRecord("SCHILY.devmajor", Buffer.from(String(fields.devmajor))));
  if ((fields.devminor ?? 0) > MAX_OCTAL_8) records.push(paxRecord("SCHILY.devminor", Buffer.from(String(fields.devminor))));
  for (const [name, value] of fields.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  if (records.length === 0) return block;

  const pax = Buffer.concat(records);
  const base = fields.path.replace(/\/+$/, "").split("/").pop() ?? "";
  const paxHeader = new (tarPackage().Header)({
    path: `PaxHeaders.0/${base}`.slice(0, 99),
    type: "ExtendedHeader",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: pax.length,
    mtime: new Date(Math.max(0, Math.min(fields.mtime, MAX_OCTAL_12)) * 1000),
    linkpath: "",
    uname: "",
    gname: "",
  });
  const paxBlock = Buffer.alloc(512);
  paxHeader.encode(paxBlock);
  return Buffer.concat([paxBlock, pax, padding(pax.length), block]);
}
