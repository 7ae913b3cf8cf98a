/**
 * The public `Store`: the image store of `store/image-store.ts` plus what needs the layers above
 * it: pulls and pushes (registry/), archive import and export, and the machine's containers
 * (runtime/) and volumes (volume/). It lives here, at the top of the layers it uses, so the
 * store below never imports upward. Loading it installs the registry into the build engine's
 * seam (builder/image-transfer.ts), so a build's FROM can pull.
 */
import { config } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import { installImageTransfer } from "../builder/image-transfer.js";
import { listMachineContainers, type MachineContainer } from "../runtime/machine-containers.js";
import { ImageStore } from "../store/image-store.js";
import type { ExportOptions, StoreOptions } from "../store/store-options.js";
import type { ImportResult, ResolvedImage } from "../store/types.js";
import { listVolumeRecords, type VolumeRecord } from "../volume/volume-store.js";
import { Volume } from "../volume/volume.js";
import { ensureImage, type EnsureOptions } from "./ensure.js";
import type { PullOptions, PullResult } from "./pull.js";
import type { PushOptions, PushResult } from "./push.js";

export { keepLayerXattr } from "../store/layers.js";
export type { ExportOptions, PruneImagesOptions, RemoveImageOptions, StoreOptions, WriteImageOptions } from "../store/store-options.js";

const stores = new Map<string, Store>();

/** Imports an archive into `store` (see {@link Store.import}). */
async function importInto(store: ImageStore, path: string): Promise<ImportResult> {
  await store.prepare();
  const { importArchive } = await import("./archive-import.js");
  return importArchive(store, path);
}

/**
 * A content-addressed image store in one directory, safe for many processes at once.
 *
 * @example
 * ```ts
 * const store = Store.default();
 * for (const image of await store.images()) console.log(image.repository, image.tag, image.id);
 * await store.tag("alpine:3.20", "base:test");
 * ```
 */
export class Store extends ImageStore {
  /**
   * Opens (and on first use creates) the store in `dir`. No I/O happens until a method is
   * called.
   *
   * @example
   * ```ts
   * const store = Store.open("/tmp/bento-test-store");
   * ```
   */
  static override open(dir: string, options: StoreOptions = {}): Store {
    const root = ImageStore.rootOf(dir);
    return new Store(root, ImageStore.context(root, options));
  }

  /**
   * The store at `BENTO_HOME` (default `~/.local/share/bento`), one instance per process.
   *
   * @example
   * ```ts
   * const images = await Store.default().images();
   * ```
   */
  static override default(): Store {
    const home = config().home;
    let store = stores.get(home);
    if (!store) {
      store = new Store(home, ImageStore.defaultContext(home));
      stores.set(home, store);
    }
    return store;
  }

  /**
   * The containers whose files are in this store, from every process on the machine: running,
   * stopped, or left behind by a process that died (as `bento ps -a` lists them).
   *
   * @example
   * ```ts
   * for (const c of await Store.default().containers()) console.log(c.name, c.status);
   * ```
   */
  async containers(): Promise<MachineContainer[]> {
    return listMachineContainers({ runtimeDir: config().runtimeDir, home: this.root });
  }

  /**
   * The volumes of this machine's `BENTO_HOME`.
   *
   * @example
   * ```ts
   * const names = (await Store.default().volumes()).map((v) => v.name);
   * ```
   */
  async volumes(): Promise<VolumeRecord[]> {
    return listVolumeRecords();
  }

  /**
   * Removes the unused anonymous volumes, and with `all` the unused named ones too; returns their
   * names (as `Volume.prune`).
   *
   * @example
   * ```ts
   * await Store.default().pruneVolumes({ all: true });
   * ```
   */
  async pruneVolumes(options: { all?: boolean } = {}): Promise<string[]> {
    return Volume.prune(options);
  }

  /**
   * Writes an image to a tar archive: `oci` (an OCI image layout) or `docker` (the same plus
   * `manifest.json`, as `docker save` since Docker 25). Blobs are copied as stored, so the image
   * id and, for `oci`, the manifest digest survive the round trip.
   *
   * @example
   * ```ts
   * await store.export("myapp:test", "/tmp/myapp.tar", { format: "docker" });
   * ```
   */
  async export(ref: string, path: string, options: ExportOptions = {}): Promise<void> {
    const format = options.format ?? "oci";
    if (format !== "oci" && format !== "docker") throw new InvalidOptionError("format", `"${String(format)}" is not "oci" or "docker"`);
    const { exportArchive } = await import("./archive-export.js");
    await exportArchive(this, await this.exportSource(ref), path, format);
  }

  /**
   * Imports images from a `docker save` tar, an OCI archive (tar, optionally gzipped) or an
   * OCI image-layout directory. Every blob's digest and size and every layer's diff id are
   * verified before anything is added. Tags come from `RepoTags` or the
   * `io.containerd.image.name` / `org.opencontainers.image.ref.name` annotations.
   *
   * @example
   * ```ts
   * const { images } = await store.import("/tmp/myapp.tar");
   * ```
   */
  async import(path: string): Promise<ImportResult> {
    return importInto(this, path);
  }

  // ---- registries ----

  /**
   * Pulls an image from its registry (`docker.io/library/x` for `x`) and tags it with `ref`
   * (a digest reference adds no tag). Blobs the store holds are not fetched again; the image id
   * is the registry's config digest. See src/registry/pull.ts.
   *
   * @example
   * ```ts
   * const { id } = await store.pull("alpine:3.20", { platform: "linux/arm64" });
   * ```
   */
  async pull(ref: string, options: PullOptions = {}): Promise<PullResult> {
    const { pullImage } = await import("./pull.js");
    return pullImage(this, ref, options);
  }

  /**
   * Pushes the image tagged `ref` to the registry `ref` names; blobs the registry holds are
   * skipped or mounted from another repository. See src/registry/push.ts.
   *
   * @example
   * ```ts
   * await store.tag("myapp:test", "localhost:5000/myapp:test");
   * await store.push("localhost:5000/myapp:test");
   * ```
   */
  async push(ref: string, options: PushOptions = {}): Promise<PushResult> {
    const { pushImage } = await import("./push.js");
    return pushImage(this, ref, options);
  }

  /**
   * The image `ref` names, pulled first as the pull policy says (`BENTO_PULL_POLICY`: "missing"
   * by default, "always", "never"; or `options.policy`). For the build engine's FROM and the
   * runtime. See src/registry/ensure.ts.
   *
   * @example
   * ```ts
   * const { layers, config } = await store.ensure("alpine:3.20");
   * ```
   */
  async ensure(ref: string, options: EnsureOptions = {}): Promise<ResolvedImage> {
    return ensureImage(this, ref, options);
  }
}

installImageTransfer({ ensure: ensureImage, importArchive: importInto, cacheBackend: async () => (await import("./build-cache.js")).registryCacheBackend });
