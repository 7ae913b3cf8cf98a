/**
 * Compose `volumes:` entries (short `[SOURCE:]TARGET[:MODE]` and long syntax) and `tmpfs:` entries:
 * named, anonymous and bind mounts for the plan, tmpfs mounts as ContainerOptions mounts.
 */
import { homedir } from "node:os";
import path from "node:path";
import type { TmpfsMount } from "../../container/mounts.js";
import { parseBytes } from "../../runtime/limits.js";
import type { VolumeMountPlan } from "../plan.js";
import { at, checked, pathOf, toBool, type NormalizeContext, type Segments } from "./context.js";

/** What a volume entry became. */
export type MountResult = { mount: VolumeMountPlan } | { tmpfs: TmpfsMount } | { skipped: true };

const propagation = new Set(["shared", "slave", "private", "rshared", "rslave", "rprivate"]);
const consistency = new Set(["consistent", "cached", "delegated"]);

function isHostPath(source: string): boolean {
  return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
}

function hostPath(ctx: NormalizeContext, source: string): string {
  if (source === "~" || source.startsWith("~/")) return path.join(homedir(), source.slice(1));
  return path.resolve(ctx.projectDir, source);
}

function target(ctx: NormalizeContext, segments: Segments, value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/")) return ctx.fail(segments, `the target ${JSON.stringify(value)} must be an absolute path in the container, such as "/data"`);
  if (value.split("/").includes("..")) return ctx.fail(segments, `the target ${JSON.stringify(value)} may not contain ".."`);
  return value.replace(/\/+$/, "") || "/";
}

function namedVolume(ctx: NormalizeContext, segments: Segments, name: string, declared: ReadonlySet<string>): void {
  if (!declared.has(name)) ctx.fail(segments, `refers to the undefined volume ${JSON.stringify(name)}; declare it under the top-level volumes key, or write a path ("./${name}") for a bind mount`);
}

function octalMode(ctx: NormalizeContext, segments: Segments, value: unknown): number {
  const text = String(value);
  if (!/^[0-7]{1,4}$/.test(text)) return ctx.fail(segments, `${JSON.stringify(value)} is not a mode in octal, such as 1777 or 755`);
  return parseInt(text, 8);
}

/**
 * One `volumes:` entry of a service.
 *
 * @example
 * ```ts
 * parseVolumeEntry(ctx, segments, "./src:/app:ro", new Set()); // { mount: { type: "bind", source: "/project/src", target: "/app", readOnly: true, ... } }
 * ```
 */
export function parseVolumeEntry(ctx: NormalizeContext, segments: Segments, entry: unknown, declared: ReadonlySet<string>): MountResult {
  const where = pathOf(segments);
  if (typeof entry === "string") {
    const parts = entry.split(":");
    if (parts.length > 3 || parts.some((p) => p === "")) {
      return ctx.fail(segments, `${JSON.stringify(entry)} is not [SOURCE:]TARGET[:MODE], such as "data:/var/lib/data", "./src:/app:ro" or "/cache"`);
    }
    if (parts.length === 1) return { mount: { type: "volume", target: target(ctx, segments, parts[0]), readOnly: false, path: where } };
    const [source, rawTarget, modes] = parts as [string, string, string | undefined];
    let readOnly = false;
    for (const mode of (modes ?? "").split(",").filter(Boolean)) {
      if (mode === "ro") readOnly = true;
      else if (mode === "rw" || consistency.has(mode)) continue;
      else if (mode === "z" || mode === "Z") ctx.unsupported(segments, `the SELinux relabel option "${mode}" is not supported`);
      else if (propagation.has(mode)) ctx.unsupported(segments, `the mount propagation "${mode}" is not supported`);
      else if (mode === "nocopy") ctx.unsupported(segments, `"nocopy" is not supported`);
      else return ctx.fail(segments, `${JSON.stringify(mode)} is not a volume mode; use ro or rw`);
    }
    const t = target(ctx, segments, rawTarget);
    if (isHostPath(source)) return { mount: { type: "bind", source: hostPath(ctx, source), target: t, readOnly, createHostPath: true, path: where } };
    namedVolume(ctx, segments, source, declared);
    return { mount: { type: "volume", source, target: t, readOnly, path: where } };
  }
  const long = entry as Record<string, unknown>;
  const type = long.type as string;
  const t = target(ctx, at(segments, "target"), long.target);
  const readOnly = long.read_only === undefined ? false : toBool(ctx, at(segments, "read_only"), long.read_only);
  for (const [k, v] of Object.entries((long.bind as Record<string, unknown> | undefined) ?? {})) {
    if (k === "propagation" || k === "recursive" || k === "selinux") ctx.unsupported(at(segments, "bind", k), `bind ${k} ${JSON.stringify(v)} is not supported`);
  }
  for (const k of Object.keys((long.volume as Record<string, unknown> | undefined) ?? {})) {
    if (!k.startsWith("x-")) ctx.unsupported(at(segments, "volume", k), `volume ${k} is not supported`);
  }
  if (long.image !== undefined) ctx.unsupported(at(segments, "image"), "image mounts are not supported");
  switch (type) {
    case "volume": {
      const source = long.source === undefined || long.source === "" ? undefined : String(long.source);
      if (source !== undefined) namedVolume(ctx, at(segments, "source"), source, declared);
      return { mount: source === undefined ? { type: "volume", target: t, readOnly, path: where } : { type: "volume", source, target: t, readOnly, path: where } };
    }
    case "bind": {
      if (typeof long.source !== "string" || long.source === "") return ctx.fail(at(segments, "source"), "a bind mount needs a source: the host path to mount");
      const bind = (long.bind as Record<string, unknown> | undefined) ?? {};
      const create = bind.create_host_path === undefined ? false : toBool(ctx, at(segments, "bind", "create_host_path"), bind.create_host_path);
      return { mount: { type: "bind", source: hostPath(ctx, long.source), target: t, readOnly, createHostPath: create, path: where } };
    }
    case "tmpfs": {
      if (long.source !== undefined) return ctx.fail(at(segments, "source"), "a tmpfs mount takes no source");
      const options = (long.tmpfs as Record<string, unknown> | undefined) ?? {};
      const mount: TmpfsMount = readOnly ? { tmpfs: t, readonly: true } : { tmpfs: t };
      if (options.size !== undefined) mount.sizeBytes = checked(ctx, at(segments, "tmpfs", "size"), () => parseBytes("size", options.size as number | string));
      if (options.mode !== undefined) mount.mode = octalMode(ctx, at(segments, "tmpfs", "mode"), options.mode);
      return { tmpfs: mount };
    }
    default:
      ctx.unsupported(at(segments, "type"), `${type} mounts are not supported; use volume, bind or tmpfs`);
      return { skipped: true };
  }
}

/**
 * One `tmpfs:` entry (`"/run"` or `"/run:size=64m,mode=1777"`).
 *
 * @example
 * ```ts
 * parseTmpfsEntry(ctx, segments, "/run:size=64m"); // { tmpfs: "/run", sizeBytes: 67108864 }
 * ```
 */
export function parseTmpfsEntry(ctx: NormalizeContext, segments: Segments, entry: string): TmpfsMount | undefined {
  const colon = entry.indexOf(":");
  const mount: TmpfsMount = { tmpfs: target(ctx, segments, colon < 0 ? entry : entry.slice(0, colon)) };
  let supported = true;
  for (const option of colon < 0
    ? []
    : entry
        .slice(colon + 1)
        .split(",")
        .filter(Boolean)) {
    const [key, value] = option.split("=", 2) as [string, string | undefined];
    if (key === "size" && value !== undefined) mount.sizeBytes = checked(ctx, segments, () => parseBytes("size", value));
    else if (key === "mode" && value !== undefined) mount.mode = octalMode(ctx, segments, value);
    else if (key === "rw") continue;
    else if (key === "ro") mount.readonly = true;
    else {
      ctx.unsupported(segments, `the tmpfs option ${JSON.stringify(option)} is not supported (only size and mode are)`);
      supported = false;
    }
  }
  return supported ? mount : undefined;
}
