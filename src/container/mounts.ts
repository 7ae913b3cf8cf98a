/**
 * Mount options as users write them (volumes, bind mounts, tmpfs, and docker -v's "src:dst[:ro]"
 * strings) and their validation. Volumes are resolved to directories when the container is made.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { InvalidOptionError } from "../errors.js";
import type { Volume } from "../volume/volume.js";
import { checkVolumeName } from "../volume/volume-store.js";

/** A named volume mounted into the container (created when missing, as Docker does). */
export interface VolumeMount {
  /** The volume's name, or a Volume. */
  volume: string | Volume;
  /** Where it is mounted in the container: an absolute path without `..`. */
  target: string;
  /** Mount it read-only (default false). */
  readonly?: boolean;
}

/** A host directory or file mounted into the container. Its source must exist. */
export interface BindMount {
  /** The host path, absolute or relative to the current directory; it must exist. */
  bind: string;
  /** Where it is mounted in the container: an absolute path without `..`. */
  target: string;
  /** Mount it read-only (default false). */
  readonly?: boolean;
}

/** A tmpfs mount: empty on every start. */
export interface TmpfsMount {
  /** Where it is mounted in the container. */
  tmpfs: string;
  /** Its size limit in bytes (default: the kernel's, half of RAM). */
  sizeBytes?: number;
  /** Its mode (default 0o1777). */
  mode?: number;
  /** Mount it read-only (default false). */
  readonly?: boolean;
}

/** A mount: an object, or docker -v's "src:dst[:ro|rw]" (a src with a "/" or "." is a bind). */
export type MountSpec = VolumeMount | BindMount | TmpfsMount | string;

/** A validated mount. */
export type NormalizedMount =
  | { kind: "volume"; name: string; target: string; readonly: boolean }
  | { kind: "bind"; source: string; target: string; readonly: boolean; isFile: boolean }
  | { kind: "tmpfs"; target: string; options: string; readonly: boolean };

/** Checks an in-container path: absolute, without "..". */
export function containerPath(option: string, value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.split("/").includes("..")) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} must be an absolute path inside the container without "..", e.g. "/data"`);
  }
  return value.replace(/\/+$/, "") || "/";
}

function bindSource(option: string, source: string): { source: string; isFile: boolean } {
  const abs = resolve(source);
  if (!existsSync(abs)) {
    throw new InvalidOptionError(option, `the bind source "${abs}" does not exist; create it first (bento does not create bind sources, unlike Docker)`);
  }
  return { source: abs, isFile: !statSync(abs).isDirectory() };
}

function parseString(option: string, spec: string): VolumeMount | BindMount {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw new InvalidOptionError(option, `"${spec}" is not "source:target[:ro]"; e.g. "pgdata:/var/lib/postgresql/data" or "./conf:/etc/app:ro"`);
  }
  const mode = parts[2];
  if (mode !== undefined && mode !== "ro" && mode !== "rw") throw new InvalidOptionError(option, `"${mode}" is not a mount mode; use "ro" or "rw"`);
  const [src, target] = parts as [string, string];
  const readonly = mode === "ro";
  return isAbsolute(src) || src.startsWith(".") ? { bind: src, target, readonly } : { volume: src, target, readonly };
}

/** Validates the `mounts` option. */
export function parseMounts(specs: readonly MountSpec[] | undefined): NormalizedMount[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) throw new InvalidOptionError("mounts", "must be an array of mounts");
  const targets = new Set<string>();
  return specs.map((raw, i) => {
    const option = `mounts[${i}]`;
    const spec = typeof raw === "string" ? parseString(option, raw) : raw;
    if (typeof spec !== "object" || spec === null) throw new InvalidOptionError(option, "must be { volume, target }, { bind, target }, { tmpfs } or \"source:target[:ro]\"");
    let mount: NormalizedMount;
    if ("tmpfs" in spec) {
      const parts = [`mode=${(spec.mode ?? 0o1777).toString(8)}`];
      if (spec.sizeBytes !== undefined) {
        if (!Number.isSafeInteger(spec.sizeBytes) || spec.sizeBytes <= 0) throw new InvalidOptionError(`${option}.sizeBytes`, `${spec.sizeBytes} must be a positive whole number of bytes`);
        parts.push(`size=${spec.sizeBytes}`);
      }
      mount = { kind: "tmpfs", target: containerPath(`${option}.tmpfs`, spec.tmpfs), options: parts.join(","), readonly: spec.readonly ?? false };
    } else if ("bind" in spec) {
      if (typeof spec.bind !== "string" || !spec.bind) throw new InvalidOptionError(`${option}.bind`, "must be a host path");
      mount = { kind: "bind", ...bindSource(`${option}.bind`, spec.bind), target: containerPath(`${option}.target`, spec.target), readonly: spec.readonly ?? false };
    } else if ("volume" in spec) {
      const name = typeof spec.volume === "string" ? checkVolumeName(spec.volume) : spec.volume.name;
      mount = { kind: "volume", name, target: containerPath(`${option}.target`, spec.target), readonly: spec.readonly ?? false };
    } else {
      throw new InvalidOptionError(option, "must have one of volume, bind or tmpfs");
    }
    if (mount.target === "/") throw new InvalidOptionError(option, "cannot mount over \"/\"; choose a directory such as \"/data\"");
    if (targets.has(mount.target)) throw new InvalidOptionError(option, `${mount.target} is mounted twice; mount each target once`);
    targets.add(mount.target);
    return mount;
  });
}
