/**
 * Where volumes live (DESIGN section 5: `volumes/<name>/` in the store) and who uses them.
 * A volume is a directory `_data` plus `volume.json`; a container records the volumes it mounts
 * in its `config.json`, so a volume in use by any container, running or stopped, is known.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../config.js";
import { InvalidOptionError } from "../errors.js";

/** A volume's recorded metadata. */
export interface VolumeRecord {
  /** The volume's name (its directory under `volumes/` in the store). */
  name: string;
  /** Labels given when it was created. */
  labels: Record<string, string>;
  /** When it was created, in ISO 8601 (UTC). */
  createdAt: string;
  /** Made for one container (an image's VOLUME, or a mount without a name); removed with it. */
  anonymous: boolean;
}

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Checks a volume name as Docker does. */
export function checkVolumeName(name: string): string {
  if (typeof name !== "string" || !namePattern.test(name)) {
    throw new InvalidOptionError("volume", `"${String(name)}" is not a volume name: use letters, digits, "_", "." and "-", starting with a letter or digit`);
  }
  return name;
}

export function volumesDir(): string {
  return join(config().home, "volumes");
}

export function volumeDir(name: string): string {
  return join(volumesDir(), name);
}

/** The directory a volume's data lives in. */
export function volumeDataDir(name: string): string {
  return join(volumeDir(name), "_data");
}

export function readVolumeRecord(name: string): VolumeRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(volumeDir(name), "volume.json"), "utf8")) as VolumeRecord;
  } catch {
    return undefined;
  }
}

/** Creates a volume unless it exists; returns its record and whether it was made now. */
export function ensureVolume(name: string, labels: Record<string, string> = {}, anonymous = false): { record: VolumeRecord; created: boolean } {
  const existing = readVolumeRecord(name);
  if (existing) return { record: existing, created: false };
  const dir = volumeDir(name);
  mkdirSync(join(dir, "_data"), { recursive: true, mode: 0o755 });
  const record: VolumeRecord = { name, labels, createdAt: new Date().toISOString(), anonymous };
  // Written last and by rename: a volume without volume.json is one still being made.
  writeFileSync(join(dir, "volume.json.tmp"), JSON.stringify(record));
  renameSync(join(dir, "volume.json.tmp"), join(dir, "volume.json"));
  return { record, created: true };
}

/** Every volume's record. */
export function listVolumeRecords(): VolumeRecord[] {
  if (!existsSync(volumesDir())) return [];
  return readdirSync(volumesDir())
    .map(readVolumeRecord)
    .filter((r): r is VolumeRecord => r !== undefined);
}

/** The names of containers (running or stopped) that mount `name`. */
export function containersUsing(name: string): string[] {
  const dir = join(config().home, "containers");
  if (!existsSync(dir)) return [];
  const users: string[] = [];
  for (const id of readdirSync(dir)) {
    try {
      const c = JSON.parse(readFileSync(join(dir, id, "config.json"), "utf8")) as { name: string; volumes?: string[] };
      if (c.volumes?.includes(name)) users.push(c.name);
    } catch {
      // a container being created or removed
    }
  }
  return users;
}
