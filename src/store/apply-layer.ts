/**
 * Over 400 lines: one writer whose checks (names confined to the root, whiteouts, hardlinks)
 * must see the same directory state; splitting them would spread one safety argument over files.
 *
 * Applies one layer's tar entries to an empty directory, leaving it in overlay form so it can be
 * an overlayfs lowerdir as is. The rules follow image-spec `layer.md` and containerd's
 * `pkg/archive/tar.go` (applyNaive, createTarFile) and `tar_opts_linux.go` (OverlayConvertWhiteout),
 * as summarized in shared/RUNTIME-NOTES.md section 5:
 *
 * - `.wh.<name>` becomes a char 0/0 device `<name>` owned as the entry says, and
 *   `.wh..wh..opq` becomes the opaque xattr (`y`) on its directory; the `.wh.` file itself is
 *   never written. A directory created where this layer already put a whiteout is made opaque,
 *   because the whiteout said to hide the lower directory's children.
 * - Every name is confined to the layer root: absolute names and `..` components are refused,
 *   and parent directories are resolved component by component, following a symlink only when
 *   its target stays inside the root (absolute targets are read against the root, as inside the
 *   container). A symlink that leads out is refused rather than clamped. Nothing is ever written
 *   through the final component of a name: an existing entry is removed and replaced.
 * - Ownership is set (lchown) before the mode, because chown clears setuid and setgid; xattrs go
 *   after chown, which also clears `security.capability`. Directories get their mode and times
 *   last, because creating their children changes their mtime and a read-only mode would stop
 *   those children being created by a non-root unpacker.
 *
 * ADD (`under`, `lowerParent`) writes into its step's layer directory, which earlier sources of the
 * step may have filled: a parent the layer lacks is asked of the image below, whose symlinks are
 * followed inside the root and whose directories are copied up, as extraction in the container would.
 *
 * The directory must be private to the caller (a fresh temp dir), so nothing else changes it
 * between a check and the use that follows.
 *
 * File system calls are synchronous, with a yield to the event loop every few milliseconds.
 * Measured on this project's test VM, an `fs.promises` call costs 60-300 µs of thread-pool
 * handoff against 3-40 µs for the same call made synchronously, and a layer is a long strictly
 * ordered sequence of small calls: 3,000 files took 2.4 s through `fs.promises` and a tenth of
 * that this way (bench/store-unpack.ts). The yields bound how long the event loop waits.
 */
import * as fs from "node:fs";
import { constants } from "node:fs";
import { join } from "node:path";
import { InvalidArchiveError, UnsafeArchiveError } from "./errors.js";
import { isErrno, nativeFs, systemError } from "./native-fs.js";
import type { TarEntry } from "./tar-reader.js";

/** Policy for {@link applyLayer}, decided by the caller (root or rootless). */
export interface ApplyLayerOptions {
  /** Names the layer in errors, such as `unpack layer sha256:...`. */
  context: string;
  /** Set owners from the archive; needs CAP_CHOWN. When false, files belong to the caller. */
  chown: boolean;
  /**
   * When `chown` is false: told each entry's path, archive owner and name in the archive, to set
   * the owner some other way (rootless, from inside the user namespace) once the tree is written.
   */
  deferOwner?(path: string, uid: number, gid: number, name: string): void;
  /**
   * With `deferOwner`: told each regular file's `security.capability` that `keepXattr` refuses,
   * to set it with the owners (rootless: the namespace's root may, and must, after the chown).
   */
  deferCapability?(path: string, value: Buffer): void;
  /** Create char and block devices; needs CAP_MKNOD. Whiteouts (char 0/0) are always created. */
  devices: boolean;
  /**
   * When `devices` is false: skip a device entry, noting it in `skipped` (an image layer, as
   * docker does rootless), or refuse it (an archive the user extracts, which must not lose files
   * silently). Default "skip".
   */
  uncreatableDevices?: "skip" | "refuse";
  /** The xattr that marks an opaque directory: `trusted.overlay.opaque`, or `user.overlay.opaque` for overlays mounted with `userxattr`. */
  opaqueXattr: string;
  /** Whether to restore the extended attribute `name` from the archive. */
  keepXattr(name: string): boolean;
  /**
   * False for an archive that is not a layer (ADD's): `.wh.` names are ordinary files there,
   * not deletions. Default true.
   */
  whiteouts?: boolean;
  /**
   * ADD: the archive's names go under this directory of the root (its resolved destination), and
   * the root is the whole image's layer, so symlinks resolve as in the container. The archive's
   * "." entry is then skipped (the destination keeps its metadata), as Docker's extraction does.
   */
  under?: readonly string[];
  /**
   * ADD: what the image below the layer has at `rel`, a parent an entry needs that the layer
   * lacks: a symlink (followed inside the root, as the layer's own), or a directory, which
   * `make()` copies up with the image's metadata. Undefined: a new directory is made.
   */
  lowerParent?(rel: string): { symlink: string } | { make(): void } | undefined;
}

/** What {@link applyLayer} did. */
export interface ApplyLayerResult {
  /** Entries applied. */
  entries: number;
  /** Entries or attributes skipped, with the reason. */
  skipped: string[];
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_WHITEOUT = ".wh..wh..opq";
const MAX_SYMLINK_HOPS = 40;
/** Longest stretch of synchronous file system work before the event loop gets a turn. */
const YIELD_AFTER_MS = 8;

interface DirMeta {
  mode: number;
  mtime: number;
  atime: number;
}

/** Splits an archive name into components, refusing names that could leave the root. */
export function archiveNameParts(name: string, context: string): string[] {
  if (name.startsWith("/")) throw new UnsafeArchiveError(context, name, "is an absolute path");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new UnsafeArchiveError(context, name, 'has a ".." component');
  return parts;
}

class LayerWriter {
  readonly #root: string;
  readonly #options: ApplyLayerOptions;
  readonly #dirs = new Map<string, DirMeta>();
  /** Relative paths of the whiteout devices this layer created. */
  readonly #whiteouts = new Set<string>();
  /** Relative paths known to be real directories (not symlinks), so parents are checked once. */
  readonly #knownDirs = new Set<string>();
  readonly #uid = process.geteuid?.() ?? -1;
  readonly #gid = process.getegid?.() ?? -1;
  readonly skipped: string[] = [];

  constructor(root: string, options: ApplyLayerOptions) {
    this.#root = root;
    this.#options = options;
  }

  #abs(parts: readonly string[]): string {
    return parts.length === 0 ? this.#root : join(this.#root, ...parts);
  }

  #fail(entry: string, e: unknown): unknown {
    return systemError(`${this.#options.context}: entry "${entry}"`, e);
  }

  /**
   * Resolves the directory `parts` inside the root and returns its real components (no
   * symlinks). Missing directories are created (0755) when `create` is set, else undefined
   * is returned.
   */
  resolveDir(parts: readonly string[], entry: string, create: boolean): string[] | undefined {
    const resolved: string[] = [];
    const pending = [...parts];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === "..") {
        if (resolved.length === 0) throw new UnsafeArchiveError(this.#options.context, entry, "has a symlinked parent that leads out of the layer root");
        resolved.pop();
        continue;
      }
      const next = [...resolved, part];
      const rel = next.join("/");
      if (this.#knownDirs.has(rel)) {
        resolved.push(part);
        continue;
      }
      const path = this.#abs(next);
      let stat;
      try {
        stat = fs.lstatSync(path);
      } catch (e) {
        if (!isErrno(e, "ENOENT")) throw this.#fail(entry, e);
        const lower = this.#options.lowerParent?.(rel);
        if (lower !== undefined && "symlink" in lower) {
          if (++hops > MAX_SYMLINK_HOPS) throw new UnsafeArchiveError(this.#options.context, entry, "has too many levels of symlinks in its parents");
          if (lower.symlink.startsWith("/")) resolved.length = 0;
          pending.unshift(...lower.symlink.split("/").filter((p) => p !== "" && p !== "."));
          continue;
        }
        if (!create) return undefined;
        if (lower !== undefined) {
          try {
            lower.make();
          } catch (e2) {
            throw this.#fail(entry, e2);
          }
          this.#knownDirs.add(rel);
          resolved.push(part);
          continue;
        }
        try {
          fs.mkdirSync(path, 0o755);
          fs.chmodSync(path, 0o755);
        } catch (e2) {
          throw this.#fail(entry, e2);
        }
        this.#knownDirs.add(rel);
        resolved.push(part);
        continue;
      }
      if (stat.isDirectory()) {
        this.#knownDirs.add(rel);
        resolved.push(part);
      } else if (stat.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new UnsafeArchiveError(this.#options.context, entry, "has too many levels of symlinks in its parents");
        const target = fs.readlinkSync(path);
        const targetParts = target.split("/").filter((p) => p !== "" && p !== ".");
        if (target.startsWith("/")) resolved.length = 0;
        pending.unshift(...targetParts);
      } else if (create && this.#whiteouts.has(rel)) {
        // This layer deleted the lower `rel` and now puts something under it: the new directory
        // must hide the lower one's children, as a directory entry over the whiteout would.
        this.#remove(next, entry);
        try {
          fs.mkdirSync(path, 0o755);
          fs.chmodSync(path, 0o755);
        } catch (e) {
          throw this.#fail(entry, e);
        }
        this.#markOpaque(path, entry);
        this.#knownDirs.add(rel);
        resolved.push(part);
      } else {
        throw new InvalidArchiveError(`${this.#options.context}: entry "${entry}": parent "${rel}" is not a directory`);
      }
    }
    return resolved;
  }

  /** Removes whatever is at `parts` (a tree for a directory). */
  #remove(parts: readonly string[], entry: string): void {
    const rel = parts.join("/");
    try {
      fs.rmSync(this.#abs(parts), { recursive: true, force: true });
    } catch (e) {
      throw this.#fail(entry, e);
    }
    const under = (key: string): boolean => key === rel || key.startsWith(`${rel}/`);
    for (const key of [...this.#dirs.keys()]) if (under(key)) this.#dirs.delete(key);
    for (const key of [...this.#whiteouts]) if (under(key)) this.#whiteouts.delete(key);
    for (const key of [...this.#knownDirs]) if (under(key)) this.#knownDirs.delete(key);
  }

  #setXattrs(path: string, entry: TarEntry): void {
    const native = nativeFs();
    for (const [name, value] of entry.xattrs) {
      if (name === "security.capability" && entry.type === "file" && this.#options.deferCapability && !this.#options.keepXattr(name)) {
        this.#options.deferCapability(path, value);
        continue;
      }
      if (!this.#options.keepXattr(name)) {
        this.skipped.push(`${entry.path}: xattr ${name}`);
        continue;
      }
      try {
        native.lsetxattr(path, name, value);
      } catch (e) {
        // A file system without that namespace, or a namespace the caller may not write.
        if (isErrno(e, "ENOTSUP", "EPERM", "EOPNOTSUPP")) this.skipped.push(`${entry.path}: xattr ${name}: ${(e as Error).message}`);
        else throw this.#fail(entry.path, e);
      }
    }
  }

  #chown(path: string, entry: TarEntry): void {
    // New entries already belong to the unpacker; skip the call when that is what the entry says.
    if (!this.#options.chown) return this.#options.deferOwner?.(path, entry.uid, entry.gid, entry.path);
    if (entry.uid === this.#uid && entry.gid === this.#gid) return;
    try {
      fs.lchownSync(path, entry.uid, entry.gid);
    } catch (e) {
      throw this.#fail(entry.path, e);
    }
  }

  #finishNonDir(path: string, entry: TarEntry, chmod: boolean): void {
    this.#chown(path, entry);
    try {
      if (chmod) fs.chmodSync(path, entry.mode);
    } catch (e) {
      throw this.#fail(entry.path, e);
    }
    this.#setXattrs(path, entry);
    try {
      fs.lutimesSync(path, entry.atime ?? entry.mtime, entry.mtime);
    } catch (e) {
      throw this.#fail(entry.path, e);
    }
  }

  async apply(entry: TarEntry): Promise<void> {
    const own = archiveNameParts(entry.path, this.#options.context);
    if (own.length === 0 && this.#options.under !== undefined) {
      if (entry.type !== "dir") throw new InvalidArchiveError(`${this.#options.context}: entry "${entry.path}" names the destination but is not a directory`);
      return;
    }
    const parts = [...(this.#options.under ?? []), ...own];
    if (parts.length === 0) {
      if (entry.type !== "dir") throw new InvalidArchiveError(`${this.#options.context}: entry "${entry.path}" names the layer root but is not a directory`);
      this.#chown(this.#root, entry);
      this.#setXattrs(this.#root, entry);
      this.#dirs.set("", { mode: entry.mode, mtime: entry.mtime, atime: entry.atime ?? entry.mtime });
      return;
    }
    const name = parts[parts.length - 1] as string;
    const parent = this.resolveDir(parts.slice(0, -1), entry.path, true) as string[];

    if (name.startsWith(WHITEOUT_PREFIX) && this.#options.whiteouts !== false) {
      this.#whiteout(parent, name, entry);
      return;
    }
    const target = [...parent, name];
    const rel = target.join("/");
    const path = this.#abs(target);
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(path);
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw this.#fail(entry.path, e);
    }

    if (entry.type === "dir") {
      let opaque = false;
      if (existing && !existing.isDirectory()) {
        opaque = this.#whiteouts.has(rel);
        this.#remove(target, entry.path);
        existing = undefined;
      }
      if (!existing) {
        try {
          fs.mkdirSync(path, 0o700);
        } catch (e) {
          throw this.#fail(entry.path, e);
        }
      }
      this.#knownDirs.add(rel);
      this.#chown(path, entry);
      this.#setXattrs(path, entry);
      if (opaque) this.#markOpaque(path, entry.path);
      this.#dirs.set(rel, { mode: entry.mode, mtime: entry.mtime, atime: entry.atime ?? entry.mtime });
      return;
    }

    if (entry.type === "link") {
      this.#hardlink(target, entry, existing !== undefined);
      return;
    }
    if (existing) this.#remove(target, entry.path);

    switch (entry.type) {
      case "file": {
        let fd: number;
        try {
          fd = fs.openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        } catch (e) {
          throw this.#fail(entry.path, e);
        }
        try {
          for await (const chunk of entry.body()) {
            let offset = 0;
            while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
          }
        } catch (e) {
          throw this.#fail(entry.path, e);
        } finally {
          fs.closeSync(fd);
        }
        this.#finishNonDir(path, entry, true);
        return;
      }
      case "symlink":
        try {
          fs.symlinkSync(entry.linkpath, path);
        } catch (e) {
          throw this.#fail(entry.path, e);
        }
        // Linux has no lchmod: a symlink's mode is always 0777.
        this.#finishNonDir(path, entry, false);
        return;
      case "char":
      case "block":
      case "fifo": {
        const whiteoutDevice = entry.type === "char" && entry.devmajor === 0 && entry.devminor === 0;
        if (entry.type !== "fifo" && !this.#options.devices && !whiteoutDevice) {
          if (this.#options.uncreatableDevices === "refuse") {
            throw new InvalidArchiveError(
              `${this.#options.context}: entry "${entry.path}" is a ${entry.type} device ${entry.devmajor}:${entry.devminor}, which cannot be created without CAP_MKNOD (rootless); remove it from the archive, or run as root`,
            );
          }
          this.skipped.push(`${entry.path}: ${entry.type} device ${entry.devmajor}:${entry.devminor} (creating devices needs CAP_MKNOD)`);
          return;
        }
        const typeBits = entry.type === "char" ? constants.S_IFCHR : entry.type === "block" ? constants.S_IFBLK : constants.S_IFIFO;
        try {
          nativeFs().mknod(path, typeBits | entry.mode, makedev(entry.devmajor, entry.devminor));
        } catch (e) {
          throw this.#fail(entry.path, e);
        }
        if (whiteoutDevice) this.#whiteouts.add(rel);
        this.#finishNonDir(path, entry, true);
        return;
      }
      default: {
        const never: never = entry.type;
        throw new InvalidArchiveError(`${this.#options.context}: entry "${entry.path}" has unknown type ${String(never)}`);
      }
    }
  }

  #markOpaque(path: string, entry: string): void {
    try {
      nativeFs().lsetxattr(path, this.#options.opaqueXattr, Buffer.from("y"));
    } catch (e) {
      throw this.#fail(entry, e);
    }
  }

  #whiteout(parent: string[], name: string, entry: TarEntry): void {
    if (name === OPAQUE_WHITEOUT) {
      this.#markOpaque(this.#abs(parent), entry.path);
      return;
    }
    if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless outside AUFS.
      this.skipped.push(`${entry.path}: AUFS metadata`);
      return;
    }
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden === "" || hidden === "." || hidden === "..") {
      throw new InvalidArchiveError(`${this.#options.context}: entry "${entry.path}" is an invalid whiteout (it names no file)`);
    }
    const target = [...parent, hidden];
    this.#remove(target, entry.path);
    const path = this.#abs(target);
    try {
      nativeFs().mknod(path, constants.S_IFCHR, 0);
    } catch (e) {
      throw this.#fail(entry.path, e);
    }
    this.#whiteouts.add(target.join("/"));
    this.#chown(path, entry);
  }

  #hardlink(target: string[], entry: TarEntry, exists: boolean): void {
    if (entry.linkpath.startsWith("/") || entry.linkpath.split("/").includes("..")) {
      throw new UnsafeArchiveError(this.#options.context, entry.path, `is a hardlink to "${entry.linkpath}", which is outside the archive`);
    }
    const linkParts = [...(this.#options.under ?? []), ...archiveNameParts(entry.linkpath, this.#options.context)];
    const fromDir = linkParts.length === 0 ? undefined : this.resolveDir(linkParts.slice(0, -1), entry.path, false);
    const from = fromDir === undefined ? undefined : this.#abs([...fromDir, linkParts[linkParts.length - 1] as string]);
    let stat: fs.Stats | undefined;
    try {
      if (from !== undefined) stat = fs.lstatSync(from);
    } catch {
      stat = undefined;
    }
    if (from === undefined || stat === undefined) {
      throw new InvalidArchiveError(`${this.#options.context}: entry "${entry.path}" is a hardlink to "${entry.linkpath}", which is not in this layer`);
    }
    if (stat.isDirectory()) throw new InvalidArchiveError(`${this.#options.context}: entry "${entry.path}" is a hardlink to a directory`);
    const path = this.#abs(target);
    if (exists) {
      const current = fs.lstatSync(path);
      if (current.ino === stat.ino && current.dev === stat.dev) return;
      this.#remove(target, entry.path);
    }
    try {
      fs.linkSync(from, path);
    } catch (e) {
      throw this.#fail(entry.path, e);
    }
  }

  /** Sets directory modes and times, after every entry is in place. */
  finish(): void {
    for (const [rel, meta] of this.#dirs) {
      const path = rel === "" ? this.#root : join(this.#root, rel);
      try {
        fs.chmodSync(path, meta.mode);
        fs.lutimesSync(path, meta.atime, meta.mtime);
      } catch (e) {
        throw this.#fail(rel || ".", e);
      }
    }
  }
}

/** glibc's makedev(3): the encoding of (major, minor) in a dev_t. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** glibc's major(3) and minor(3). */
export function splitDev(dev: number | bigint): { major: number; minor: number } {
  const d = BigInt(dev);
  return {
    major: Number(((d >> 32n) & 0xfffff000n) | ((d >> 8n) & 0xfffn)),
    minor: Number(((d >> 12n) & 0xffffff00n) | (d & 0xffn)),
  };
}

/**
 * Applies `entries` to the directory `root` (which should be new and empty) in overlay form.
 * Throws {@link UnsafeArchiveError} for a name that would leave the root, and
 * {@link InvalidArchiveError} for malformed whiteouts or dangling hardlinks; the caller removes
 * the directory on failure.
 */
export async function applyLayer(entries: AsyncIterable<TarEntry>, root: string, options: ApplyLayerOptions): Promise<ApplyLayerResult> {
  const writer = new LayerWriter(root, options);
  let count = 0;
  let sliceStart = performance.now();
  for await (const entry of entries) {
    await writer.apply(entry);
    count++;
    if (performance.now() - sliceStart > YIELD_AFTER_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  writer.finish();
  return { entries: count, skipped: writer.skipped };
}
