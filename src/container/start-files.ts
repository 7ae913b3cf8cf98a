/**
 * Files written into a container before it starts (testcontainers' `withCopyFilesToContainer`):
 * they go into the container's own upper directory after it is created and before its command
 * runs, so they work whatever the image holds (no `tar` needed) and the command sees them from
 * its first instruction. Paths resolve inside the container's root: an image symlink on the way
 * is followed as the container would follow it, and `..` or an absolute link never leave it.
 */
import { chmodSync, existsSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { InvalidOptionError } from "../errors.js";
import { lookupMerged } from "./merged-view.js";
import { containerPath, type NormalizedMount } from "./mounts.js";

/**
 * A file or directory to put into a container before it starts: a host path (`source`, a file or
 * a directory, copied with its modes and owners) or a file's `content` (text as UTF-8, or bytes).
 *
 * @example
 * ```ts
 * const files: ContainerFile[] = [
 *   { source: "./fixtures/seed.sql", target: "/docker-entrypoint-initdb.d/seed.sql" },
 *   { content: "listen_addresses = '*'\n", target: "/etc/app/app.conf", mode: 0o600 },
 * ];
 * ```
 */
export type ContainerFile =
  | {
      /** The host path to copy (relative to the current directory). */
      source: string;
      /** Where it goes (absolute); an existing directory receives it inside, as `docker cp`. */
      target: string;
    }
  | {
      /** The file's content. */
      content: string | Uint8Array;
      /** The file's path in the container (absolute). */
      target: string;
      /** Its mode (default 0o644). */
      mode?: number;
    };

/** A checked {@link ContainerFile}. */
export interface NormalizedFile {
  source: string | Buffer;
  target: string;
  mode?: number;
}

const MAX_SYMLINKS = 40;

/** Validates the `files` option against the mounts (a file under a mount would be hidden by it). */
export function normalizeFiles(files: unknown, mounts: readonly NormalizedMount[]): NormalizedFile[] {
  if (files === undefined) return [];
  if (!Array.isArray(files)) throw new InvalidOptionError("files", "expected an array of { source, target }");
  return files.map((file: { source?: unknown; content?: unknown; target?: unknown; mode?: unknown } | null, i): NormalizedFile => {
    const option = `files[${i}]`;
    if (typeof file !== "object" || file === null) throw new InvalidOptionError(option, "expected { source, target } or { content, target }");
    const target = containerPath(`${option}.target`, file.target);
    const under = mounts.find((m) => target === m.target || target.startsWith(`${m.target}/`));
    if (under) throw new InvalidOptionError(`${option}.target`, `"${target}" is under the mount at "${under.target}", which would hide it; put the file into the mount's ${under.kind} instead`);
    if ((file.source === undefined) === (file.content === undefined)) throw new InvalidOptionError(option, "give either source (a host path) or content (text or bytes)");
    if (file.source !== undefined) {
      if (typeof file.source !== "string" || file.source === "") throw new InvalidOptionError(`${option}.source`, "expected a host path");
      if (!existsSync(file.source)) throw new InvalidOptionError(`${option}.source`, `"${resolve(file.source)}" does not exist on the host`);
      if (file.mode !== undefined) throw new InvalidOptionError(`${option}.mode`, "applies to content only; a host path keeps its own mode");
      return { source: resolve(file.source), target };
    }
    let source: Buffer;
    if (typeof file.content === "string") source = Buffer.from(file.content, "utf8");
    else if (file.content instanceof Uint8Array) source = Buffer.from(file.content);
    else throw new InvalidOptionError(`${option}.content`, "expected text (a string) or bytes (a Buffer or Uint8Array)");
    const mode = file.mode ?? 0o644;
    if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new InvalidOptionError(`${option}.mode`, `${String(mode)} is not a file mode such as 0o644`);
    return { source, target, mode };
  });
}

/**
 * Resolves `path` in the merged view of `layers` (top-first) as the kernel would inside the
 * container: symlinks are followed, absolute ones from the container's root, and `..` stops at
 * the root. Returns the resolved absolute path.
 */
export function resolveInRoot(layers: readonly string[], path: string): string {
  const pending = path.split("/").filter(Boolean);
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const entry = lookupMerged(layers, [...resolved, part].join("/"));
    if (entry?.stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new InvalidOptionError("files", `resolving "${path}" in the image followed more than ${MAX_SYMLINKS} symlinks (a loop?)`);
      const link = readlinkSync(entry.path);
      if (link.startsWith("/")) resolved = [];
      pending.unshift(...link.split("/").filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return `/${resolved.join("/")}`;
}

/** What writing the files needs from a created container. */
export interface FileTarget {
  /** Upper dir, then image layers (top-first). */
  layers(): string[];
  copyTo(source: string | Buffer, path: string): Promise<void>;
}

/** Writes the files into a created, not yet started container. */
export async function writeStartFiles(container: FileTarget, files: readonly NormalizedFile[]): Promise<void> {
  for (const file of files) {
    const target = resolveInRoot(container.layers(), file.target);
    if (typeof file.source !== "string" && lookupMerged(container.layers(), target.slice(1))?.stat.isDirectory()) {
      throw new InvalidOptionError("files", `"${file.target}" is a directory in the image; give content the path of the file to write, e.g. "${target === "/" ? "" : target}/name"`);
    }
    await container.copyTo(file.source, target);
    if (file.mode !== undefined) chmodSync(join(container.layers()[0]!, target), file.mode);
  }
}
