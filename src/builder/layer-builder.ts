/**
 * Assembles the directory tree of a COPY or ADD layer in a temp directory (on the store's file
 * system), which `store.createLayerFromDir` then turns into the layer. Parent directories that the
 * image already has are written with the image's metadata (owner, mode, times), so the layer does
 * not change them; new ones get mode 0755 and the `--chown` owner, as Docker creates them.
 */
import { resolveInRoot } from "../store/resolve-in-root.js";
import { containerOwnerOf, OwnerChanges } from "../runtime/rootless-owner.js";
import { chmodSync, copyFileSync, constants, lstatSync, lutimesSync, mkdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync, type Stats } from "node:fs";
import path from "node:path";
import type { LayeredView } from "./layered-view.js";

/** An owner, as numbers. */
export interface Owner {
  uid: number;
  gid: number;
}

/** Raised when the destination cannot hold the copy (a parent is a file in the image). */
export class DestinationError extends Error {}

/**
 * A layer under construction: a directory mirroring the image's paths (relative, no leading `/`).
 *
 * @example
 * ```ts
 * const layer = new LayerTree(tmpDir, view, { uid: 0, gid: 0 });
 * layer.ensureDir("app");
 * layer.writeContent("app/hello.txt", "hi\n", 0o644);
 * await layer.finish();
 * ```
 */
export class LayerTree {
  readonly #created = new Set<string>();
  #dirTimes: Array<{ rel: string; mtimeMs: number }> = [];
  readonly #owners: OwnerChanges;

  constructor(
    readonly root: string,
    readonly view: LayeredView,
    /** The owner of new parent directories (the `--chown` owner, else root). */
    readonly parentOwner: Owner,
    /** Owners of particular new directories (WORKDIR directories the image lacks), by path. */
    readonly dirOwners: ReadonlyMap<string, Owner> = new Map(),
  ) {
    this.#owners = new OwnerChanges(root);
  }

  /**
   * `rel` with every symlink resolved inside the image as this layer changes it: a symlink an
   * earlier source of the step made (copied, or extracted from an archive) is followed as the
   * image's own are (absolute targets start again at the image's root, `..` stops there), so no
   * later write goes through it on the host. What the layer directory holds is read from disk,
   * so nothing the step wrote can be missed. With `followLast` false the last name is kept.
   */
  resolve(rel: string, followLast: boolean): string {
    return resolveInRoot(
      rel,
      followLast,
      (candidate) => {
        const inLayer = lstatIfAny(this.hostPath(candidate));
        return inLayer === undefined ? this.#viewLink(candidate) : inLayer.isSymbolicLink() ? readlinkSync(this.hostPath(candidate)) : undefined;
      },
      () => new DestinationError(`too many levels of symbolic links resolving "/${rel}" in the image`),
    );
  }

  // `rel` is resolved up to its last name, so the view is asked about it as it is.
  #viewLink(rel: string): string | undefined {
    return this.view.lookup(rel)?.stat.isSymbolicLink() ? this.view.readlink(rel) : undefined;
  }

  /**
   * What the image has at `rel`, which the layer lacks, for an archive being extracted into the
   * layer: its symlink's target, or its directory, copied up by `make()` with the image's metadata.
   */
  lowerParent(rel: string): { symlink: string } | { make(): void } | undefined {
    const entry = this.view.lookup(rel);
    if (entry?.stat.isSymbolicLink()) return { symlink: this.view.readlink(rel) };
    if (entry?.stat.isDirectory()) return { make: () => this.ensureDir(rel) };
    return undefined;
  }

  /** The host path of an image path in this layer. */
  hostPath(rel: string): string {
    return rel === "" ? this.root : path.join(this.root, ...rel.split("/"));
  }

  /**
   * Creates the directory `rel` and its parents in the layer. Each one the image has keeps its
   * metadata; the others are new (0755, `parentOwner`). `rel` must be resolved (no symlinks).
   */
  ensureDir(rel: string): void {
    const names = rel.split("/").filter(Boolean);
    for (let i = 1; i <= names.length; i++) {
      const sub = names.slice(0, i).join("/");
      const host = this.hostPath(sub);
      const inLayer = lstatIfAny(host);
      if (inLayer?.isDirectory()) continue;
      // Callers pass resolved paths; a symlink in the layer is never written through.
      if (inLayer?.isSymbolicLink()) throw new DestinationError(`"/${sub}" is a symlink this step made; "/${rel}" must be resolved through it first`);
      if (inLayer !== undefined) throw new DestinationError(`"/${sub}" is a file this step wrote, so nothing can be copied into it`);
      const existing = this.view.lookup(sub);
      if (existing !== undefined && !existing.stat.isDirectory()) {
        throw new DestinationError(`"/${sub}" is not a directory in the image, so nothing can be copied into it`);
      }
      mkdirSync(host);
      if (existing !== undefined) {
        chmodSync(host, existing.stat.mode & 0o7777);
        this.#owners.set(host, containerOwnerOf(existing.stat), `COPY to ${rel}`);
        this.#dirTimes.push({ rel: sub, mtimeMs: existing.stat.mtimeMs });
      } else {
        const owner = this.dirOwners.get(sub) ?? this.parentOwner;
        chmodSync(host, 0o755);
        this.#owners.set(host, owner, `COPY to ${rel}`);
      }
      this.#created.add(sub);
    }
  }

  /**
   * Gives the file at the host path `host` in this layer (an extracted archive entry) the owner
   * `owner`: as root at once, rootless in {@link finish}. Throws, naming `what` and the fix, for an
   * owner the user namespace does not hold.
   */
  setOwner(host: string, owner: Owner, what: string): void {
    this.#owners.set(host, owner, what);
  }

  /** True when `rel` was written to this layer already. */
  has(rel: string): boolean {
    return this.#created.has(rel);
  }

  /** Creates (or updates) a copied directory with its own metadata; its time is set in {@link finish}. */
  writeDir(rel: string, mode: number, owner: Owner, mtimeMs: number): void {
    const parent = path.posix.dirname(rel);
    if (parent !== ".") this.ensureDir(parent);
    const host = this.hostPath(rel);
    const inLayer = lstatIfAny(host);
    if (inLayer?.isSymbolicLink()) throw new DestinationError(`"/${rel}" is a symlink this step made; a directory copied there must be resolved through it first`);
    if (inLayer !== undefined && !inLayer.isDirectory()) rmSync(host);
    if (!inLayer?.isDirectory()) mkdirSync(host);
    chmodSync(host, mode & 0o7777);
    this.#owners.set(host, owner, `COPY to ${rel}`);
    this.#created.add(rel);
    this.#dirTimes.push({ rel, mtimeMs });
  }

  /** Copies a host file into the layer at `rel`. */
  copyFile(hostSource: string, rel: string, mode: number, owner: Owner, mtimeMs: number): void {
    const parent = path.posix.dirname(rel);
    if (parent !== ".") this.ensureDir(parent);
    const host = this.hostPath(rel);
    this.#clear(host, rel);
    copyFileSync(hostSource, host, constants.COPYFILE_FICLONE);
    this.#finishFile(host, rel, mode, owner, mtimeMs);
  }

  /** Writes `content` as the file `rel` (heredocs). */
  writeContent(rel: string, content: string | Buffer, mode: number, owner: Owner = { uid: 0, gid: 0 }, mtimeMs = Date.now()): void {
    const parent = path.posix.dirname(rel);
    if (parent !== ".") this.ensureDir(parent);
    const host = this.hostPath(rel);
    this.#clear(host, rel);
    writeFileSync(host, content);
    this.#finishFile(host, rel, mode, owner, mtimeMs);
  }

  /** Creates the symlink `rel` -> `target`. */
  symlink(target: string, rel: string, owner: Owner, mtimeMs: number): void {
    const parent = path.posix.dirname(rel);
    if (parent !== ".") this.ensureDir(parent);
    const host = this.hostPath(rel);
    this.#clear(host, rel);
    symlinkSync(target, host);
    this.#owners.set(host, owner, `COPY to ${rel}`);
    lutimesSync(host, mtimeMs / 1000, mtimeMs / 1000);
    this.#created.add(rel);
  }

  /**
   * Sets directory times (writing into a directory changes its mtime), then the owners bento
   * could not set at once (rootless): after that the user may no longer set their times.
   */
  async finish(): Promise<void> {
    for (const { rel, mtimeMs } of this.#dirTimes.sort((a, b) => b.rel.length - a.rel.length)) {
      // A later source (an archive too) may have replaced it or a parent with a symlink: never
      // touch what a symlink points at.
      if (this.#realDir(rel)) utimesSync(this.hostPath(rel), mtimeMs / 1000, mtimeMs / 1000);
    }
    await this.#owners.apply();
  }

  // A later source may replace an earlier one at the same path; never write through a symlink.
  // True when `rel` and each of its parents is a directory in the layer, none a symlink.
  #realDir(rel: string): boolean {
    const names = rel.split("/").filter(Boolean);
    for (let i = 1; i <= names.length; i++) if (lstatIfAny(this.hostPath(names.slice(0, i).join("/")))?.isDirectory() !== true) return false;
    return true;
  }

  // The layer directory is this step's own, so whatever is there an earlier source wrote.
  #clear(host: string, rel: string): void {
    if (lstatIfAny(host) === undefined) return;
    rmSync(host, { recursive: true, force: true });
    const under = (key: string): boolean => key === rel || key.startsWith(`${rel}/`);
    for (const key of [...this.#created]) if (under(key)) this.#created.delete(key);
    this.#dirTimes = this.#dirTimes.filter((d) => !under(d.rel));
  }

  #finishFile(host: string, rel: string, mode: number, owner: Owner, mtimeMs: number): void {
    this.#owners.set(host, owner, `COPY to ${rel}`);
    // chmod after chown: chown clears the setuid and setgid bits.
    chmodSync(host, mode & 0o7777);
    utimesSync(host, mtimeMs / 1000, mtimeMs / 1000);
    this.#created.add(rel);
  }
}

function lstatIfAny(host: string): Stats | undefined {
  try {
    return lstatSync(host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}
