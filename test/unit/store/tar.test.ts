/**
 * The tar reader and header writer, without the addon or privileges: round trips (long and
 * non-ASCII names, big ids, binary xattrs), archives made by GNU tar, GNU-format device numbers,
 * and malformed input.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { archiveNameParts, makedev, splitDev } from "../../../src/store/apply-layer.js";
import { detectCompression } from "../../../src/store/compression.js";
import { HashTap, isDigest, sha256 } from "../../../src/store/digest.js";
import { InvalidArchiveError, UnsafeArchiveError } from "../../../src/store/errors.js";
import { parsePax, readTar, type TarEntry } from "../../../src/store/tar-reader.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeaderFields } from "../../../src/store/tar-writer.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

type Read = Omit<TarEntry, "body"> & { content: string };

async function readAll(data: Buffer, chunkSize = 700): Promise<Read[]> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  const out: Read[] = [];
  for await (const entry of readTar(Readable.from(chunks), "test")) {
    const parts: Buffer[] = [];
    for await (const c of entry.body()) parts.push(c);
    const { body: _body, ...rest } = entry;
    out.push({ ...rest, content: Buffer.concat(parts).toString("utf8") });
  }
  return out;
}

function archive(entries: Array<TarHeaderFields & { body?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    parts.push(encodeHeader({ ...e, size: body.length }), body, padding(body.length));
  }
  return Buffer.concat([...parts, END_OF_ARCHIVE]);
}

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, size: 0 };

describe("tar round trip", () => {
  it("keeps every field, long and non-ASCII names, big ids and binary xattrs", async () => {
    const longName = `${"deep/".repeat(40)}file.txt`;
    const capability = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0xff, 0x0a, 0x3d, 0x20, 0, 0, 0, 0]);
    const data = archive([
      { ...base, path: "dir/", type: "dir", mode: 0o1777 },
      { ...base, path: "dir/file", type: "file", mode: 0o4755, uid: 1000, gid: 1001, body: "hello" },
      { ...base, path: longName, type: "file", body: "long" },
      { ...base, path: "ünïcödé/名前", type: "file", body: "utf8" },
      { ...base, path: "big-ids", type: "file", uid: 3_000_000, gid: 4_000_000 },
      { ...base, path: "link", type: "symlink", linkpath: `/${"target/".repeat(30)}x` },
      { ...base, path: "hard", type: "link", linkpath: "dir/file" },
      { ...base, path: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      { ...base, path: "dev/sda", type: "block", devmajor: 8, devminor: 0 },
      { ...base, path: "pipe", type: "fifo" },
      {
        ...base,
        path: "ping",
        type: "file",
        xattrs: [
          ["security.capability", capability],
          ["user.x", Buffer.from("a=b\nc")],
        ],
        body: "elf",
      },
    ]);
    const read = await readAll(data);
    expect(read.map((e) => [e.path, e.type])).toEqual([
      ["dir/", "dir"],
      ["dir/file", "file"],
      [longName, "file"],
      ["ünïcödé/名前", "file"],
      ["big-ids", "file"],
      ["link", "symlink"],
      ["hard", "link"],
      ["dev/null", "char"],
      ["dev/sda", "block"],
      ["pipe", "fifo"],
      ["ping", "file"],
    ]);
    expect(read[0]?.mode).toBe(0o1777);
    expect(read[1]).toMatchObject({ mode: 0o4755, uid: 1000, gid: 1001, size: 5, content: "hello", mtime: 1_700_000_000 });
    expect(read[2]?.content).toBe("long");
    expect(read[4]).toMatchObject({ uid: 3_000_000, gid: 4_000_000 });
    expect(read[5]?.linkpath).toBe(`/${"target/".repeat(30)}x`);
    expect(read[6]?.linkpath).toBe("dir/file");
    expect(read[7]).toMatchObject({ devmajor: 1, devminor: 3, mode: 0o666 });
    expect(read[8]).toMatchObject({ devmajor: 8, devminor: 0 });
    expect(read[10]?.xattrs.get("security.capability")).toEqual(capability);
    expect(read[10]?.xattrs.get("user.x")?.toString()).toBe("a=b\nc");
    expect(read[10]?.content).toBe("elf");
  });

  it("reads the same however the input is chunked, and skips unread bodies", async () => {
    const data = archive([
      { ...base, path: "a", type: "file", body: "x".repeat(1500) },
      { ...base, path: "b", type: "file", body: "y".repeat(10) },
    ]);
    for (const size of [1, 511, 512, 513, 4096, data.length]) {
      expect((await readAll(data, size)).map((e) => e.content.length)).toEqual([1500, 10]);
    }
    const names: string[] = [];
    for await (const entry of readTar(Readable.from([data]), "test")) names.push(entry.path);
    expect(names).toEqual(["a", "b"]);
  });

  it("reads archives GNU tar writes: long names ('L' entries), old GNU format, gnu magic", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bento-tar-unit-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const longDir = join(dir, "src", "x".repeat(120));
    mkdirSync(longDir, { recursive: true });
    writeFileSync(join(longDir, "y".repeat(110)), "gnu");
    for (const format of ["gnu", "oldgnu", "posix", "ustar"]) {
      if (format === "ustar") continue;
      const out = join(dir, `${format}.tar`);
      execFileSync("tar", [`--format=${format}`, "-cf", out, "-C", join(dir, "src"), "."]);
      const read = await readAll(readFileSync(out));
      const file = read.find((e) => e.type === "file");
      expect(file?.path).toBe(`./${"x".repeat(120)}/${"y".repeat(110)}`);
      expect(file?.content).toBe("gnu");
    }
  });

  it("reads device numbers from GNU-format headers", async () => {
    const header = encodeHeader({ ...base, path: "dev/tty", type: "char", devmajor: 5, devminor: 0 });
    header.write("ustar  \0", 257, 8, "latin1");
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    const [entry] = await readAll(Buffer.concat([header, END_OF_ARCHIVE]));
    expect(entry).toMatchObject({ type: "char", devmajor: 5, devminor: 0 });
  });
});

describe("malformed archives", () => {
  it("refuses an empty input, a bad checksum, truncation and sparse files", async () => {
    await expect(readAll(Buffer.alloc(0))).rejects.toBeInstanceOf(InvalidArchiveError);
    const good = archive([{ ...base, path: "f", type: "file", body: "content" }]);
    const bad = Buffer.from(good);
    bad[0] = 0x5a;
    await expect(readAll(bad)).rejects.toThrow(/checksum/);
    await expect(readAll(good.subarray(0, 600))).rejects.toThrow(/truncated/);
    await expect(readAll(good.subarray(0, 300))).rejects.toThrow(/truncated/);
    const sparse = encodeHeader({ ...base, path: "s", type: "file" });
    sparse[156] = "S".charCodeAt(0);
    sparse.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of sparse) sum += byte;
    sparse.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    await expect(readAll(Buffer.concat([sparse, END_OF_ARCHIVE]))).rejects.toThrow(/sparse/);
    expect(() => parsePax(Buffer.from("99 path=x\n"), {}, "t")).toThrow(InvalidArchiveError);
    expect(parsePax(Buffer.from("10 path=x\n"), {}, "t")).toEqual({ path: "x" });
  });

  it("reads an archive that ends with a single zero block, or none (EOF)", async () => {
    const body = Buffer.from("data");
    const header = encodeHeader({ ...base, path: "f", type: "file", size: body.length });
    const oneBlock = Buffer.concat([header, body, padding(body.length), Buffer.alloc(512)]);
    expect((await readAll(oneBlock)).map((e) => e.content)).toEqual(["data"]);
    const noEnd = Buffer.concat([header, body, padding(body.length)]);
    expect((await readAll(noEnd)).map((e) => e.content)).toEqual(["data"]);
  });
});

describe("layer names and helpers", () => {
  it("confines archive names: no absolute paths, no ..", () => {
    expect(archiveNameParts("./a//b/./c/", "t")).toEqual(["a", "b", "c"]);
    expect(archiveNameParts("./", "t")).toEqual([]);
    expect(() => archiveNameParts("/etc/passwd", "t")).toThrow(UnsafeArchiveError);
    expect(() => archiveNameParts("a/../../b", "t")).toThrow(UnsafeArchiveError);
    expect(() => archiveNameParts("..", "t")).toThrow(/".." component/);
  });

  it("encodes device numbers as glibc's makedev does", () => {
    expect(makedev(1, 3)).toBe(0x103n);
    expect(makedev(259, 65_537)).toBe(((259n & 0xfffn) << 8n) | ((65_537n & 0xffffff00n) << 12n) | (65_537n & 0xffn));
    expect(splitDev(makedev(4095, 1_000_000))).toEqual({ major: 4095, minor: 1_000_000 });
    expect(splitDev(0)).toEqual({ major: 0, minor: 0 });
  });

  it("detects compression from magic bytes and hashes what passes", async () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(detectCompression(Buffer.from("ustar"))).toBe("none");
    const tap = new HashTap();
    const chunks: Buffer[] = [];
    for await (const c of Readable.from([Buffer.from("ab"), Buffer.from("c")]).pipe(tap)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("abc");
    expect(tap.digest()).toBe(sha256("abc"));
    expect(tap.size).toBe(3);
    expect(isDigest(sha256("x"))).toBe(true);
    expect(isDigest("sha256:ABC")).toBe(false);
  });
});
