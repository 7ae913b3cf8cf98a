/**
 * A read-only view of an image's file system as overlayfs would show it, computed from its layer
 * directories (top-first) without mounting anything: a char 0/0 device is a whiteout that hides the
 * name in lower layers, a directory with the opaque xattr hides the lower layers' contents, and a
 * non-directory hides whatever is below it (overlayfs(5), "Whiteouts and opaque directories").
 * A container's upper dir written by fuse-overlayfs has its markers too (store/overlay-markers.ts):
 * `.wh.<name>` files, `.wh..wh..opq` and `user.fuseoverlayfs.opaque`; they are read the same way
 * and never listed.
 *
 * The build engine uses it where a mount would be overkill: resolving COPY destinations through the
 * image's symlinks (`/bin` -> `usr/bin` on merged-/usr systems), copying the metadata of existing
 * parent directories, reading `COPY --from` sources, and telling mount stubs from real files.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { pathNames, resolveInRoot } from "../store/resolve-in-root.js";
import { hasOpaqueXattr, OPAQUE_MARKER, WHITEOUT_PREFIX } from "../store/overlay-markers.js";

/** One name as the view shows it: the topmost layer's copy. */
export interface ViewEntry {
  stat: Stats;
  /** The host path of the topmost copy (for reading file content). */
  hostPath: string;
}

interface DirInfo {
  entry: ViewEntry;
  /** Indexes of the layers whose copy of this directory shows through, top-first. */
  visible: number[];
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

function isWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

/**
 * The merged view of layer directories (top-first). Paths are relative to the image's root, with
 * or without a leading `/`.
 *
 * @example
 * ```ts
 * const view = new LayeredView(await store.lowerDirs("debian:bookworm"));
 * view.resolve("/bin/sh", false); // "usr/bin/sh": /bin is a symlink to usr/bin
 * ```
 */
export class LayeredView {
  readonly #layers: readonly string[];
  readonly #dirs = new Map<string, DirInfo | null>();

  constructor(layers: readonly string[]) {
    this.#layers = layers;
  }

  /** The layer directories, top-first. */
  get layers(): readonly string[] {
    return this.#layers;
  }

  /** The entry at `path` (symlinks not followed), or undefined when absent or whited out. */
  lookup(path: string): ViewEntry | undefined {
    const names = pathNames(path);
    if (names.includes("..")) throw new Error(`LayeredView.lookup: "${path}" is not resolved; call resolve() first`);
    if (names.length === 0) return this.#dir("")?.entry;
    const parent = this.#dir(names.slice(0, -1).join("/"));
    if (parent === undefined) return undefined;
    return this.#child(parent, names.join("/"))?.entry;
  }

  /** The names in directory `path`, sorted; [] when it is not a directory. */
  readdir(path: string): string[] {
    const rel = pathNames(path).join("/");
    const dir = this.#dir(rel);
    if (dir === undefined) return [];
    const names = new Set<string>();
    for (const index of dir.visible) {
      let listed: string[];
      try {
        listed = readdirSync(join(this.#layers[index] as string, rel));
      } catch {
        continue;
      }
      for (const name of listed) if (!name.startsWith(WHITEOUT_PREFIX)) names.add(name);
    }
    return [...names].filter((name) => this.#child(dir, rel === "" ? name : `${rel}/${name}`) !== undefined).sort();
  }

  /** The target of the symlink at `path`. */
  readlink(path: string): string {
    const entry = this.lookup(path);
    if (entry === undefined || !entry.stat.isSymbolicLink()) throw new Error(`LayeredView.readlink: "${path}" is not a symlink`);
    return readlinkSync(entry.hostPath);
  }

  /**
   * `path` with every symlink resolved inside the image (absolute targets start again at the
   * image's root, and `..` stops at the root, as in a chroot). With `followLast` false the last
   * name is kept as it is. Returns the path relative to the root, without a leading `/`.
   */
  resolve(path: string, followLast: boolean): string {
    return resolveInRoot(
      path,
      followLast,
      (candidate) => {
        const entry = this.lookup(candidate);
        return entry?.stat.isSymbolicLink() ? readlinkSync(entry.hostPath) : undefined;
      },
      () => new Error(`too many levels of symbolic links resolving "${path}" in the image`),
    );
  }

  #dir(rel: string): DirInfo | undefined {
    const cached = this.#dirs.get(rel);
    if (cached !== undefined) return cached ?? undefined;
    let info: DirInfo | undefined;
    if (rel === "") {
      const visible: number[] = [];
      let entry: ViewEntry | undefined;
      for (let i = 0; i < this.#layers.length; i++) {
        const hostPath = this.#layers[i] as string;
        const stat = lstatOrUndefined(hostPath);
        if (stat === undefined || !stat.isDirectory()) continue;
        entry ??= { stat, hostPath };
        visible.push(i);
        if (i < this.#layers.length - 1 && this.#isOpaque(hostPath)) break;
      }
      info = entry === undefined ? undefined : { entry, visible };
    } else {
      const slash = rel.lastIndexOf("/");
      const parent = this.#dir(slash < 0 ? "" : rel.slice(0, slash));
      const child = parent === undefined ? undefined : this.#child(parent, rel);
      info = child !== undefined && child.entry.stat.isDirectory() ? child : undefined;
    }
    this.#dirs.set(rel, info ?? null);
    return info;
  }

  // The child `rel` of a directory: the topmost copy among the layers where the parent shows
  // through, and, for a directory, the layers its own contents come from.
  #child(parent: DirInfo, rel: string): DirInfo | undefined {
    let entry: ViewEntry | undefined;
    const visible: number[] = [];
    for (const index of parent.visible) {
      const hostPath = join(this.#layers[index] as string, rel);
      const stat = lstatOrUndefined(hostPath);
      if (stat === undefined) {
        if (this.#fileWhiteout(index, rel)) break;
        continue;
      }
      if (isWhiteout(stat)) break;
      if (entry === undefined) {
        entry = { stat, hostPath };
        if (!stat.isDirectory()) break;
      } else if (!stat.isDirectory()) {
        break;
      }
      visible.push(index);
      if (index !== parent.visible[parent.visible.length - 1] && this.#isOpaque(hostPath)) break;
    }
    return entry === undefined ? undefined : { entry, visible };
  }

  // fuse-overlayfs's whiteout where it may not make a char 0/0 device: `.wh.<name>` beside it.
  #fileWhiteout(index: number, rel: string): boolean {
    const slash = rel.lastIndexOf("/");
    const marker = join(this.#layers[index] as string, rel.slice(0, slash + 1), WHITEOUT_PREFIX + rel.slice(slash + 1));
    return lstatOrUndefined(marker)?.isFile() === true;
  }

  #isOpaque(hostPath: string): boolean {
    return lstatOrUndefined(join(hostPath, OPAQUE_MARKER))?.isFile() === true || hasOpaqueXattr(hostPath);
  }
}
