/**
 * Helpers for the store's tests: a throw-away store root, the leak check every test ends with,
 * tar builders, and an overlayfs model (plus a real overlay mount where the host allows it) to
 * see the filesystem a stack of layer directories presents.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, promises as fs, readFileSync } from "node:fs";
import { removeTreeSync } from "../../../src/store/fs-util.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { sha256, type Digest } from "../../../src/store/digest.js";
import { nativeFs } from "../../../src/store/native-fs.js";
import { Store, type StoreOptions } from "../../../src/registry/store.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeaderFields } from "../../../src/store/tar-writer.js";
import { MediaType, type LayerInfo } from "../../../src/store/types.js";

/** True when running as root (ownership, devices, trusted xattrs, overlay mounts). */
export const isRoot = process.getuid?.() === 0;

/** A fresh store under /tmp, and its removal. */
export function tempStore(options: StoreOptions = {}): { store: Store; root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), "bento-store-test-"));
  return { store: Store.open(root, options), root, remove: () => removeTreeSync(root) };
}

/** A scratch directory under /tmp. */
export function tempDir(prefix = "bento-scratch-"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => removeTreeSync(dir) };
}

/** Everything a store operation may have left behind: temp files, temp layer dirs, mounts. */
export async function leftovers(root: string): Promise<string[]> {
  const left: string[] = [];
  for (const name of await fs.readdir(join(root, "tmp")).catch(() => [])) left.push(`tmp/${name}`);
  for (const name of await fs.readdir(join(root, "layers")).catch(() => [])) if (name.startsWith("tmp-")) left.push(`layers/${name}`);
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (line.includes(root)) left.push(`mount ${line}`);
  return left;
}

/** Throws, listing them, if anything leaked under the store root. (No vitest import: child processes use these helpers too.) */
export async function expectNoLeaks(root: string): Promise<void> {
  const left = await leftovers(root);
  if (left.length > 0) throw new Error(`the store leaked:\n  ${left.join("\n  ")}`);
}

/** One tar entry for {@link tarOf}; a `body` sets the size. */
export type TestEntry = Partial<TarHeaderFields> & { path: string; type?: TarHeaderFields["type"]; body?: Buffer | string };

/** Builds an uncompressed tar from entries (defaults: file, 0644, root, mtime 1_000_000). */
export function tarOf(entries: TestEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const type = e.type ?? "file";
    parts.push(
      encodeHeader({
        mode: type === "dir" ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_000_000,
        ...e,
        type,
        size: type === "file" ? body.length : 0,
      }),
    );
    if (type === "file") parts.push(body, padding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** Puts a layer tar into the store (gzipped unless told not to) and describes it. */
export async function putLayer(store: Store, tar: Buffer, options: { gzip?: boolean } = {}): Promise<LayerInfo> {
  const gzip = options.gzip ?? true;
  const blob = gzip ? gzipSync(tar) : tar;
  const { digest, size } = await store.putBlob(blob);
  return { digest, diffId: sha256(tar), size, mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer };
}

/** Writes an image made of the given layer tars and returns its id. */
export async function imageOf(store: Store, tars: Buffer[], tags: string[] = [], extra: Record<string, unknown> = {}): Promise<{ id: Digest; manifestDigest: Digest; layers: LayerInfo[] }> {
  const layers: LayerInfo[] = [];
  for (const tar of tars) layers.push(await putLayer(store, tar));
  const written = await store.writeImage({ config: { architecture: "amd64", os: "linux", config: { Cmd: ["/bin/sh"] }, ...extra }, layers }, { tags });
  return { ...written, layers };
}

/** What one path of a filesystem tree looks like, for comparisons. */
export interface Node {
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";
  /** File content (utf8), symlink target, or device numbers. */
  content?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

async function describe(path: string, withMeta: boolean): Promise<Node> {
  const st = await fs.lstat(path);
  const meta = withMeta ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : {};
  if (st.isDirectory()) return { type: "dir", ...meta };
  if (st.isSymbolicLink()) return { type: "symlink", content: await fs.readlink(path) };
  if (st.isFile()) return { type: "file", content: await fs.readFile(path, "utf8"), ...meta };
  if (st.isCharacterDevice()) return { type: "char", content: String(st.rdev), ...meta };
  if (st.isBlockDevice()) return { type: "block", content: String(st.rdev), ...meta };
  if (st.isFIFO()) return { type: "fifo", ...meta };
  return { type: "socket" };
}

/** Every path under `dir` (relative, sorted) and what it is. */
export async function treeOf(dir: string, withMeta = false): Promise<Record<string, Node>> {
  const out: Record<string, Node> = {};
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await fs.readdir(abs)).sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const childAbs = join(abs, name);
      out[childRel] = await describe(childAbs, withMeta);
      if (out[childRel]?.type === "dir") await walk(childAbs, childRel);
    }
  };
  await walk(dir, "");
  return out;
}

function isWhiteout(st: import("node:fs").Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(path: string): boolean {
  const native = nativeFs();
  for (const name of ["trusted.overlay.opaque", "user.overlay.opaque"]) {
    if (native.lgetxattr(path, name)?.toString() === "y") return true;
  }
  return false;
}

/**
 * The filesystem overlayfs presents for `lowers` (top first), computed from the layer dirs:
 * the topmost entry for a name wins; a whiteout (char 0/0) hides the name; a directory merges
 * with the same directory in the layers below it, down to (and including) an opaque one, and
 * stops at a layer where the name is not a directory.
 */
export async function flatten(lowers: string[]): Promise<Record<string, Node>> {
  const out: Record<string, Node> = {};
  const mergeDir = async (stack: string[], rel: string): Promise<void> => {
    const names = new Set<string>();
    for (const layer of stack) for (const name of await fs.readdir(rel === "" ? layer : join(layer, rel))) names.add(name);
    for (const name of [...names].sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const childStack: string[] = [];
      let top: import("node:fs").Stats | undefined;
      for (const layer of stack) {
        const st = await fs.lstat(join(layer, childRel)).catch(() => undefined);
        if (!st) continue;
        if (top === undefined) {
          top = st;
          if (isWhiteout(st) || !st.isDirectory()) {
            childStack.push(layer);
            break;
          }
        } else if (!st.isDirectory()) {
          break;
        }
        childStack.push(layer);
        if (isOpaque(join(layer, childRel))) break;
      }
      if (top === undefined || isWhiteout(top)) continue;
      out[childRel] = await describe(join(childStack[0] as string, childRel), false);
      if (top.isDirectory()) await mergeDir(childStack, childRel);
    }
  };
  await mergeDir(lowers, "");
  return out;
}

/**
 * Mounts a read-only overlay of `lowers` (top first), runs `fn` on the mount point, unmounts.
 * Returns undefined (and runs nothing) when the host cannot mount overlays here.
 */
export async function withOverlay<T>(lowers: string[], fn: (merged: string) => Promise<T>): Promise<T | undefined> {
  if (!isRoot) return undefined;
  const scratch = tempDir("bento-overlay-");
  const merged = join(scratch.dir, "merged");
  const empty = join(scratch.dir, "empty");
  await fs.mkdir(merged);
  await fs.mkdir(empty);
  // A read-only overlay (no upper) needs two lower dirs.
  const stack = lowers.length >= 2 ? lowers : [...lowers, empty];
  try {
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `ro,lowerdir=${stack.join(":")}`, merged], { stdio: "pipe" });
  } catch {
    scratch.remove();
    return undefined;
  }
  try {
    return await fn(merged);
  } finally {
    execFileSync("umount", [merged]);
    scratch.remove();
  }
}
