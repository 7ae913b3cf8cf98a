/**
 * Reads an overlay upper directory back into an OCI layer tar: the reverse of apply-layer.ts.
 * A char 0/0 device (overlay's whiteout) becomes a `.wh.<name>` entry, and a directory with the
 * opaque xattr becomes the directory plus `<dir>/.wh..wh..opq`, written right after it so it
 * comes before the directory's children (image-spec `layer.md`, "Opaque Whiteout"). Overlay's
 * own xattrs are never copied into the tar. Entries are sorted by name, owners and modes come
 * from the files, times are whole seconds, and owner names are left empty, so the same upper
 * dir always gives the same tar. fuse-overlayfs's markers (store/overlay-markers.ts) are read the
 * same way: its `.wh.<name>` files are whiteouts, and its `.wh..wh..opq` file and
 * `user.fuseoverlayfs.opaque` make the directory opaque, written once. File system calls are synchronous with regular yields to the
 * event loop, for the reason given in apply-layer.ts.
 */
import * as fs from "node:fs";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { splitDev } from "./apply-layer.js";
import { InvalidArchiveError } from "./errors.js";
import { FUSE_OVERLAYFS_XATTR, OPAQUE_MARKER, WHITEOUT_PREFIX } from "./overlay-markers.js";
import { isErrno, nativeFs, systemError } from "./native-fs.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeaderFields } from "./tar-writer.js";

/**
 * Owners and modes a tree had before bento made it readable (rootless: the files container
 * users made), by path relative to the tree; they go into the tar instead of what is on disk.
 */
export type RecordedOwners = ReadonlyMap<string, RecordedOwner>;

/** One entry of {@link RecordedOwners}. */
export interface RecordedOwner {
  /** The owner's user id, as the container sees it. */
  uid: number;
  /** The owner's group id, as the container sees it. */
  gid: number;
  /** The permission bits (with setuid, setgid and sticky). */
  mode: number;
  /**
   * Its `security.capability` (v2, root id-free), written to the tar in place of what the file
   * on disk has: the host reads a rootless file's capability as v3, bound to the user namespace.
   */
  capability?: Buffer;
}

/** Policy for {@link layerTarFromDir}. */
export interface LayerFromDirOptions {
  /** The xattrs that mark a directory opaque (`trusted.overlay.opaque`, `user.overlay.opaque`). */
  opaqueXattrs: readonly string[];
  /** Whether to copy the extended attribute `name` into the tar (overlay's own are never copied). */
  keepXattr(name: string): boolean;
  /**
   * The owner a file on disk has in the image. Rootless, the user's own ids are the container's
   * root: an unprivileged store maps them to 0. Default: as on disk.
   */
  imageOwner?(uid: number, gid: number): { uid: number; gid: number };
  /** Owners and modes to record instead of the files' own (see {@link RecordedOwners}). */
  recorded?: RecordedOwners;
  /**
   * False for a tree that is not an overlay upper dir (a volume): a char 0/0 device is written
   * as the device it is, not as a `.wh.` deletion. Default true.
   */
  whiteouts?: boolean;
  /**
   * Called for an entry the tar does not hold exactly as it is on disk (a whiteout, an opaque
   * directory, a `.wh.` name, a socket, an xattr left out): unpacking the tar would not give
   * the tree back.
   */
  onRewrite?(rel: string): void;
}

const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;
const CAPABILITY = "security.capability";
const UNSUPPORTED_OVERLAY_XATTRS = ["redirect", "metacopy"];
const READ_CHUNK = 1 << 20;
/** Longest stretch of synchronous file system work before the event loop gets a turn. */
const YIELD_AFTER_MS = 8;

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function readXattrs(path: string, rel: string, options: LayerFromDirOptions): { xattrs: Array<[string, Buffer]>; opaque: boolean } {
  const native = nativeFs();
  let names: string[];
  try {
    names = native.llistxattr(path);
  } catch (e) {
    if (isErrno(e, "ENOTSUP", "EOPNOTSUPP")) return { xattrs: [], opaque: false };
    throw systemError(`read layer from "${path}"`, e);
  }
  const xattrs: Array<[string, Buffer]> = [];
  let opaque = false;
  for (const name of names.sort(compareNames)) {
    if (FUSE_OVERLAYFS_XATTR.test(name)) {
      options.onRewrite?.(rel);
      if (options.opaqueXattrs.includes(name) && native.lgetxattr(path, name)?.toString() === "y") opaque = true;
      continue;
    }
    const overlay = OVERLAY_XATTR.exec(name);
    if (overlay) {
      options.onRewrite?.(rel);
      const key = name.slice(overlay[0].length);
      if (UNSUPPORTED_OVERLAY_XATTRS.includes(key)) {
        throw new InvalidArchiveError(`read layer from "${path}": "${rel}" has the overlay xattr ${name}; mount build overlays with redirect_dir=off,metacopy=off so the upper dir holds whole files`);
      }
      if (options.opaqueXattrs.includes(name)) {
        const value = native.lgetxattr(path, name);
        if (value?.toString() === "y") opaque = true;
      }
      continue;
    }
    if (!options.keepXattr(name)) {
      options.onRewrite?.(rel);
      continue;
    }
    const value = native.lgetxattr(path, name);
    if (value !== null) xattrs.push([name, value]);
  }
  return { xattrs, opaque };
}

function baseFields(rel: string, stat: Stats, options: LayerFromDirOptions): Omit<TarHeaderFields, "type" | "path" | "size"> {
  const recorded = options.recorded?.get(rel);
  const owner = recorded ?? options.imageOwner?.(stat.uid, stat.gid) ?? { uid: stat.uid, gid: stat.gid };
  return {
    mode: recorded?.mode ?? stat.mode & 0o7777,
    uid: owner.uid,
    gid: owner.gid,
    mtime: Math.floor(stat.mtimeMs / 1000),
  };
}

/** Streams exactly `size` bytes of the file (zeros past a shrunk end, since the header is written). */
function* fileBody(path: string, size: number): Generator<Buffer> {
  const fd = fs.openSync(path, "r");
  try {
    let offset = 0;
    while (offset < size) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK, size - offset));
      const bytesRead = fs.readSync(fd, chunk, 0, chunk.length, offset);
      if (bytesRead === 0) {
        yield Buffer.alloc(size - offset);
        return;
      }
      offset += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Yields the uncompressed tar of the overlay upper directory `dir`.
 *
 * @example
 * ```ts
 * const tar = Readable.from(layerTarFromDir(upper, { opaqueXattrs: ["trusted.overlay.opaque"], keepXattr: () => true }));
 * ```
 */
export async function* layerTarFromDir(dir: string, options: LayerFromDirOptions): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  let sliceStart = performance.now();

  async function* walk(absDir: string, relDir: string): AsyncGenerator<Buffer> {
    let names: string[];
    try {
      names = fs.readdirSync(absDir);
    } catch (e) {
      throw systemError(`read layer from "${dir}"`, e);
    }
    for (const name of names.sort(compareNames)) {
      if (performance.now() - sliceStart > YIELD_AFTER_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      const abs = join(absDir, name);
      const rel = relDir === "" ? name : `${relDir}/${name}`;
      let stat: Stats;
      try {
        stat = fs.lstatSync(abs);
      } catch (e) {
        throw systemError(`read layer from "${dir}"`, e);
      }
      if (name.startsWith(WHITEOUT_PREFIX)) options.onRewrite?.(rel);
      if (options.whiteouts !== false && (stat.isFile() || stat.isCharacterDevice()) && name.startsWith(WHITEOUT_PREFIX)) {
        // fuse-overlayfs's markers: the opaque one was written with its directory; a `.wh.`
        // file is a whiteout, in the tar's own form.
        if (name === OPAQUE_MARKER || name === `${WHITEOUT_PREFIX}.opq`) continue;
        if (stat.isFile()) {
          yield encodeHeader({ ...baseFields(rel, stat, options), path: rel, type: "file", size: 0, mode: 0o600 });
          continue;
        }
      }
      if (stat.isCharacterDevice() && stat.rdev === 0 && options.whiteouts !== false) {
        options.onRewrite?.(rel);
        yield encodeHeader({ ...baseFields(rel, stat, options), path: relDir === "" ? `.wh.${name}` : `${relDir}/.wh.${name}`, type: "file", size: 0, mode: 0o600 });
        continue;
      }
      if (stat.isSocket()) {
        options.onRewrite?.(rel);
        continue;
      }
      const { xattrs, opaque } = readXattrs(abs, rel, options);
      const capability = options.recorded?.get(rel)?.capability;
      if (capability) {
        const at = xattrs.findIndex(([name]) => name === CAPABILITY);
        if (at >= 0) xattrs.splice(at, 1);
        xattrs.push([CAPABILITY, capability]);
        xattrs.sort(([a], [b]) => compareNames(a, b));
      }
      const fields = { ...baseFields(rel, stat, options), xattrs };
      if (stat.isDirectory()) {
        yield encodeHeader({ ...fields, path: `${rel}/`, type: "dir", size: 0 });
        if (opaque || (options.whiteouts !== false && fs.existsSync(join(abs, OPAQUE_MARKER)))) yield encodeHeader({ ...baseFields(rel, stat, options), path: `${rel}/.wh..wh..opq`, type: "file", size: 0, mode: 0o600 });
        yield* walk(abs, rel);
      } else if (stat.isFile()) {
        const key = `${stat.dev}:${stat.ino}`;
        const first = stat.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          yield encodeHeader({ ...fields, path: rel, type: "link", size: 0, linkpath: first });
          continue;
        }
        if (stat.nlink > 1) links.set(key, rel);
        yield encodeHeader({ ...fields, path: rel, type: "file", size: stat.size });
        yield* fileBody(abs, stat.size);
        const pad = padding(stat.size);
        if (pad.length > 0) yield pad;
      } else if (stat.isSymbolicLink()) {
        yield encodeHeader({ ...fields, path: rel, type: "symlink", size: 0, linkpath: fs.readlinkSync(abs) });
      } else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
        const { major, minor } = splitDev(stat.rdev);
        yield encodeHeader({ ...fields, path: rel, type: stat.isCharacterDevice() ? "char" : "block", size: 0, devmajor: major, devminor: minor });
      } else if (stat.isFIFO()) {
        yield encodeHeader({ ...fields, path: rel, type: "fifo", size: 0 });
      }
    }
  }

  const root = readXattrs(dir, ".", options);
  if (root.opaque) {
    const stat = fs.lstatSync(dir);
    yield encodeHeader({ ...baseFields(".", stat, options), path: ".wh..wh..opq", type: "file", size: 0, mode: 0o600 });
  }
  yield* walk(dir, "");
  yield END_OF_ARCHIVE;
}
