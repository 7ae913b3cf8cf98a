/**
 * Mount options as users write them (volumes, bind mounts, tmpfs, and docker -v's "src:dst[:ro]"
 * strings) and their validation. Volumes are resolved to directories when the container is made.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { InvalidOptionError } from "../errors.js";
import { checkUserSpec } from "../runtime/user.js";
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
  /**
   * Who owns its root, as `user` takes it: a name or uid of the image, optionally `:group`
   * (default root). For a program that needs a directory of its own there, such as PostgreSQL's
   * tablespaces (docker's `--tmpfs /path:uid=N,gid=N`, with names resolved in the image).
   */
  owner?: string;
  /** Mount it read-only (default false). */
  readonly?: boolean;
}

/**
 * A read-only file with the given bytes, owner and mode: how compose's secrets and configs reach
 * a container. The bytes are copied into the container's own directory when it is created, so
 * later changes to their source are not seen, and they go when the container is removed.
 *
 * @example
 * ```ts
 * await new Container(image, { mounts: [{ content: "s3cret", target: "/run/secrets/db_password", mode: 0o400, uid: 999 }] }).start();
 * ```
 */
export interface FileMount {
  /** The file's bytes. */
  content: string | Uint8Array;
  /** Where the file appears in the container: an absolute path without `..`. */
  target: string;
  /** Its permission bits (default 0o444). */
  mode?: number;
  /** Its owner (default the container's user). */
  uid?: number;
  /** Its group (default the container user's group). */
  gid?: number;
}

/** A mount: an object, or docker -v's "src:dst[:ro|rw]" (a src with a "/" or "." is a bind). */
export type MountSpec = VolumeMount | BindMount | TmpfsMount | FileMount | string;

/** A validated mount. */
export type NormalizedMount =
  | { kind: "volume"; name: string; target: string; readonly: boolean }
  | { kind: "bind"; source: string; target: string; readonly: boolean; isFile: boolean }
  | { kind: "tmpfs"; target: string; options: string; readonly: boolean; owner?: string }
  | { kind: "file"; content: Uint8Array; target: string; mode: number; uid?: number; gid?: number };

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

function parseFileMount(option: string, spec: FileMount): NormalizedMount {
  const { content } = spec;
  if (typeof content !== "string" && !(content instanceof Uint8Array)) throw new InvalidOptionError(`${option}.content`, "must be a string or a Uint8Array (a Buffer)");
  const mode = spec.mode ?? 0o444;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new InvalidOptionError(`${option}.mode`, `${String(spec.mode)} is not a file mode; use permission bits such as 0o440`);
  for (const key of ["uid", "gid"] as const) {
    const id = spec[key];
    if (id !== undefined && (!Number.isSafeInteger(id) || id < 0 || id > 0xfffffffe)) throw new InvalidOptionError(`${option}.${key}`, `${String(id)} is not a numeric ${key}; use a whole number such as 1000`);
  }
  return {
    kind: "file",
    content: typeof content === "string" ? Buffer.from(content) : content,
    target: containerPath(`${option}.target`, spec.target),
    mode,
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  };
}

/** Validates the `mounts` option. */
export function parseMounts(specs: readonly MountSpec[] | undefined): NormalizedMount[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) throw new InvalidOptionError("mounts", "must be an array of mounts");
  const targets = new Set<string>();
  return specs.map((raw, i) => {
    const option = `mounts[${i}]`;
    const spec = typeof raw === "string" ? parseString(option, raw) : raw;
    if (typeof spec !== "object" || spec === null) throw new InvalidOptionError(option, 'must be { volume, target }, { bind, target }, { tmpfs }, { content, target } or "source:target[:ro]"');
    let mount: NormalizedMount;
    if ("tmpfs" in spec) {
      const parts = [`mode=${(spec.mode ?? 0o1777).toString(8)}`];
      if (spec.sizeBytes !== undefined) {
        if (!Number.isSafeInteger(spec.sizeBytes) || spec.sizeBytes <= 0) throw new InvalidOptionError(`${option}.sizeBytes`, `${spec.sizeBytes} must be a positive whole number of bytes`);
        parts.push(`size=${spec.sizeBytes}`);
      }
      if (spec.owner !== undefined) {
        if (typeof spec.owner !== "string" || spec.owner === "" || spec.owner.split(":").length > 2)
          throw new InvalidOptionError(`${option}.owner`, `${JSON.stringify(spec.owner)} must be "user" or "user:group", names or numbers of the image, e.g. "postgres"`);
        checkUserSpec(`${option}.owner`, spec.owner);
      }
      mount = { kind: "tmpfs", target: containerPath(`${option}.tmpfs`, spec.tmpfs), options: parts.join(","), readonly: spec.readonly ?? false, ...(spec.owner === undefined ? {} : { owner: spec.owner }) };
    } else if ("bind" in spec) {
      if (typeof spec.bind !== "string" || !spec.bind) throw new InvalidOptionError(`${option}.bind`, "must be a host path");
      mount = { kind: "bind", ...bindSource(`${option}.bind`, spec.bind), target: containerPath(`${option}.target`, spec.target), readonly: spec.readonly ?? false };
    } else if ("volume" in spec) {
      const name = typeof spec.volume === "string" ? checkVolumeName(spec.volume) : spec.volume.name;
      mount = { kind: "volume", name, target: containerPath(`${option}.target`, spec.target), readonly: spec.readonly ?? false };
    } else if ("content" in spec) {
      mount = parseFileMount(option, spec);
    } else {
      throw new InvalidOptionError(option, "must have one of volume, bind, tmpfs or content");
    }
    if (mount.target === "/") throw new InvalidOptionError(option, 'cannot mount over "/"; choose a directory such as "/data"');
    if (targets.has(mount.target)) throw new InvalidOptionError(option, `${mount.target} is mounted twice; mount each target once`);
    targets.add(mount.target);
    return mount;
  });
}
