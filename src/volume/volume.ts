/**
 * Named volumes: data that outlives containers and processes, and moves between hosts as a tar.
 */
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { cryptoModule } from "../deps.js";
import { BentoError } from "../errors.js";
import { config } from "../config.js";
import { removeTreeSync } from "../runtime/trash.js";
import { decompressor, detectFileCompression } from "../store/compression.js";
import { extractTree } from "../store/extract-tree.js";
import { layerTarFromDir } from "../store/layer-from-dir.js";
import { readTar } from "../store/tar-reader.js";
import { checkVolumeName, containersUsing, ensureVolume, listVolumeRecords, readVolumeRecord, volumeDataDir, volumeDir, type VolumeRecord } from "./volume-store.js";
import { containerOwnerOf, copyAsNamespaceRoot, OwnerChanges, takeTree } from "../runtime/rootless-owner.js";
import { isRootless } from "../runtime/user-namespace.js";

/** Options of a volume. */
export interface VolumeOptions {
  /** Labels recorded with the volume when `create()` makes it (an existing volume keeps its own). */
  labels?: Record<string, string>;
}

/**
 * A named volume. `create()` makes it (or finds it); containers mount it with
 * `mounts: [{ volume: "pgdata", target: "/var/lib/postgresql/data" }]`.
 *
 * @example
 * ```ts
 * const vol = await new Volume("pgdata").create();
 * await vol.export("/backups/pgdata.tar");
 * await Volume.import("/backups/pgdata.tar", "pgdata-copy");
 * ```
 */
export class Volume {
  /** The volume's name; a random one for `new Volume()`. */
  readonly name: string;
  private readonly labels: Record<string, string>;

  constructor(name?: string, options: VolumeOptions = {}) {
    this.name = name === undefined ? cryptoModule().randomBytes(16).toString("hex") : checkVolumeName(name);
    this.labels = { ...options.labels };
  }

  /**
   * Creates the volume; an existing one of that name is kept as it is.
   *
   * @example
   * ```ts
   * const vol = await new Volume("cache", { labels: { team: "qa" } }).create();
   * ```
   */
  async create(): Promise<Volume> {
    ensureVolume(this.name, this.labels);
    return this;
  }

  /** Where the volume's data lives on the host. */
  get path(): string {
    return volumeDataDir(this.name);
  }

  /**
   * Its metadata, or undefined when it does not exist.
   *
   * @example
   * ```ts
   * (await vol.inspect())?.labels;
   * ```
   */
  async inspect(): Promise<VolumeRecord | undefined> {
    return readVolumeRecord(this.name);
  }

  /**
   * Deletes the volume and its data. Refuses while a container (running or stopped) uses it.
   *
   * @example
   * ```ts
   * await (await stopped.remove(), vol.remove());
   * ```
   */
  async remove(): Promise<void> {
    const users = containersUsing(this.name);
    if (users.length > 0) {
      throw new BentoError("ERR_VOLUME_IN_USE", `volume ${this.name} is used by container${users.length > 1 ? "s" : ""} ${users.join(", ")}; remove ${users.length > 1 ? "them" : "it"} first`);
    }
    removeTreeSync(config().home, volumeDir(this.name), `volume-${this.name}`);
  }

  /**
   * Writes the volume's content to a tar file, keeping modes, ownership and symlinks.
   *
   * @example
   * ```ts
   * await vol.export("/tmp/vol.tar");
   * ```
   */
  async export(path: string): Promise<void> {
    if (!readVolumeRecord(this.name)) throw new BentoError("ERR_NOT_FOUND", `volume ${this.name} does not exist; create it first`);
    await mkdir(dirname(path), { recursive: true });
    // The store's own tar writer: symlinks as they are (absolute targets included), hardlinks once,
    // names sorted. (The tar package's writer threw "write after end" on some trees with hardlinks.)
    // Owners as a container sees them (rootless: the user is root, the ranges 1-N).
    const options = { opaqueXattrs: [], keepXattr: () => false, whiteouts: false, imageOwner: (uid: number, gid: number) => containerOwnerOf({ uid, gid }) };
    if (!isRootless()) return pipeline(Readable.from(layerTarFromDir(this.path, options)), createWriteStream(path));
    // Rootless, files that container users made belong to subordinate ids the user may not
    // read: root of the user namespace copies the volume, the copy is made the user's, and the
    // tar records the owners and modes it had.
    const copy = mkdtempSync(join(volumeDir(this.name), ".export-"));
    try {
      await copyAsNamespaceRoot(this.path, copy);
      // Like root's export, the tar keeps no xattrs: file capabilities included.
      const recorded = new Map([...(await takeTree(copy, `${copy}.owners`))].map(([rel, { capability: _, ...owner }]) => [rel, owner]));
      await pipeline(Readable.from(layerTarFromDir(copy, { ...options, recorded })), createWriteStream(path));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }

  /**
   * Restores a volume from a tar made by `export` (or `docker run ... tar c`): creates `name`,
   * which must not exist yet, with the archive's content, modes and owners.
   *
   * @example
   * ```ts
   * const copy = await Volume.import("/tmp/vol.tar", "restored");
   * ```
   */
  static async import(path: string, name: string): Promise<Volume> {
    checkVolumeName(name);
    if (!existsSync(path)) throw new BentoError("ERR_NOT_FOUND", `import: "${path}" does not exist; give the path of a volume export (a tar file)`);
    if (readVolumeRecord(name)) throw new BentoError("ERR_VOLUME_EXISTS", `volume ${name} already exists; remove it or import under another name`);
    const volume = new Volume(name);
    const { record } = ensureVolume(name);
    try {
      // The same extraction as ADD's: an absolute symlink the export kept comes back as it was.
      const decompress = decompressor(await detectFileCompression(path), `import ${path}`);
      const file = createReadStream(path);
      const stream = decompress ? file.pipe(decompress) : file;
      if (decompress) file.on("error", (e) => decompress.destroy(e));
      try {
        // Rootless, owners other than root's are set from inside the user namespace afterwards.
        const owners = new OwnerChanges(volume.path);
        await extractTree(readTar(stream, `archive ${path}`), volume.path, `archive ${basename(path)}`, (file, uid, gid) => owners.set(file, { uid, gid }, `import ${path}: ${file.slice(volume.path.length + 1)}`));
        await owners.apply();
      } finally {
        file.destroy();
        stream.destroy();
      }
    } catch (error) {
      rmSync(volumeDir(record.name), { recursive: true, force: true });
      throw new BentoError("ERR_VOLUME_IMPORT", `import ${path} into volume ${name}: ${(error as Error).message}`, { cause: error });
    }
    return volume;
  }

  /**
   * Every volume in the store.
   *
   * @example
   * ```ts
   * for (const v of await Volume.list()) console.log(v.name);
   * ```
   */
  static async list(): Promise<VolumeRecord[]> {
    return listVolumeRecords();
  }

  /**
   * Removes the anonymous volumes no container uses, and with `all` the named ones too (as
   * `docker volume prune [--all]` since Docker 23); returns their names.
   *
   * @example
   * ```ts
   * await Volume.prune();                // anonymous ones
   * await Volume.prune({ all: true });   // every unused volume
   * ```
   */
  static async prune(options: { all?: boolean } = {}): Promise<string[]> {
    const removed: string[] = [];
    for (const record of listVolumeRecords()) {
      if (!record.anonymous && !options.all) continue;
      if (containersUsing(record.name).length > 0) continue;
      removeTreeSync(config().home, volumeDir(record.name), `volume-${record.name}`);
      removed.push(record.name);
    }
    return removed;
  }
}
