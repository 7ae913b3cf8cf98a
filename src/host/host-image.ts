/**
 * `Image.fromHost(programs)`: a base image made of the host's own programs and the files they
 * need to run (see library-resolver.ts), laid out at their host paths (host-tree.ts), stored as
 * one ordinary content-addressed layer. Nothing needs to be installed or downloaded: every Linux
 * machine has a shell and the Node that runs bento.
 *
 * The image is keyed by the files' metadata (path, type, device, inode, size, mode, times): the
 * same programs on an unchanged host are a cache hit that copies nothing. The layer's content
 * is deterministic (fixed times for what bento writes), so the same files give the same image id
 * in any store.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cryptoModule } from "../deps.js";
import { hostSearchPaths } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import { hostArchitecture } from "../store/platform.js";
import { ImageStore } from "../store/image-store.js";
import type { Digest } from "../store/digest.js";
import { hostTree, writeHostTree, type HostTreeEntry } from "./host-tree.js";
import { resolveHostClosure } from "./library-resolver.js";

/** Options of `Image.fromHost()`. */
export interface FromHostOptions {
  /** The store to write the image to (default `Store.default()`). */
  store?: ImageStore;
  /**
   * More host files to include, by absolute path (ELF files among them get their libraries):
   * libraries a program opens with dlopen(3), certificates, data files.
   */
  files?: string[];
}

/** The image made by {@link hostImage}. */
export interface HostImage {
  /** The image id (`sha256:...`). */
  id: Digest;
  /** True when it came from the store's cache, without copying anything. */
  cached: boolean;
}

/** Bump when the layout of the image changes, so older cache records are not reused. */
const LAYOUT_VERSION = "1";
const STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Files every image gets: the usual users and groups, and the directories programs expect. */
const GENERATED = [
  { path: "/etc/passwd", mode: 0o644, content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" },
  { path: "/etc/group", mode: 0o644, content: "root:x:0:\nnogroup:x:65534:\n" },
  { path: "/root", mode: 0o700, content: undefined },
  { path: "/tmp", mode: 0o1777, content: undefined },
];

/**
 * Builds run `/bin/sh -c`: on a merged-/usr host `/bin` is a link to `usr/bin` where PATH found
 * the shell, so the link comes along (`/bin/.` walks it). Links on the way to libraries
 * (`/lib64`, `/lib`) come with the paths that use them.
 */
const ALWAYS = ["/bin/."];

function cacheKey(programs: readonly string[], entries: readonly HostTreeEntry[]): string {
  const hash = cryptoModule()
    .createHash("sha256")
    .update(`bento-host-image ${LAYOUT_VERSION}\n${programs.join("\0")}\n`);
  for (const e of entries) {
    if (e.type === "file") hash.update(`f ${e.path} ${e.source.dev}:${e.source.ino} ${e.source.size} ${e.mode} ${e.source.uid}:${e.source.gid} ${e.source.mtimeNs} ${e.source.ctimeNs}\n`);
    else if (e.type === "symlink") hash.update(`l ${e.path} ${e.target}\n`);
    else if (e.type === "dir") hash.update(`d ${e.path} ${e.mode}\n`);
    else hash.update(`g ${e.path} ${e.mode} ${e.content ?? ""}\n`);
  }
  return hash.digest("hex");
}

/**
 * Writes (or finds) the image of `programs` in the store.
 *
 * @example
 * ```ts
 * const { id } = await hostImage(["sh", "node"]); // { id: "sha256:...", cached: false }
 * ```
 */
export async function hostImage(programs: readonly string[], options: FromHostOptions = {}): Promise<HostImage> {
  if (!Array.isArray(programs) || programs.length === 0) throw new InvalidOptionError("fromHost.programs", 'expected a list of programs, such as ["sh", "node"]');
  if (options.store !== undefined && !(options.store instanceof ImageStore)) throw new InvalidOptionError("fromHost.store", "expected a Store");
  if (options.files !== undefined && !Array.isArray(options.files)) throw new InvalidOptionError("fromHost.files", "expected a list of absolute host paths");
  const store = options.store ?? ImageStore.default();
  const closure = resolveHostClosure(programs, options.files ?? [], hostSearchPaths());
  const entries = hostTree([...closure.files, ...ALWAYS.filter((p) => existsSync(p))], GENERATED);
  const key = `host-image-${cacheKey(programs, entries)}`;
  const known = await store.getCacheRecord<{ id: Digest }>(key);
  if (known !== undefined && (await imageExists(store, known.id))) return { id: known.id, cached: true };

  const stage = mkdtempSync(join(tmpdir(), "bento-host-image-"));
  try {
    writeHostTree(entries, stage);
    chmodSync(stage, 0o755);
    utimesSync(stage, 0, 0);
    const layer = await store.createLayerFromDir(stage);
    const names = [...closure.programs.keys()].join(" ");
    const { id } = await store.writeImage({
      config: {
        architecture: hostArchitecture(),
        os: "linux",
        config: { Env: [`PATH=${STANDARD_PATH}`] },
        history: [{ created_by: `bento: Image.fromHost(${names}): the host's programs and the libraries they load` }],
      },
      layers: [layer],
    });
    await store.putCacheRecord(key, { id });
    return { id, cached: false };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function imageExists(store: ImageStore, id: Digest): Promise<boolean> {
  try {
    await store.resolve(id);
    return true;
  } catch {
    return false;
  }
}
