/**
 * `extends` (a service built on another, in the same file or another one) and the path rebasing
 * that `extends` of another file and `include` need: relative paths in a definition mean its own
 * file's directory, so they are made absolute before the definition joins another file's.
 */
import path from "node:path";
import { ComposeError } from "../errors.js";
import { mergeService } from "./merge.js";

type Doc = Record<string, unknown>;

/** One file's services, as `extends` reads them. */
export interface ServiceFile {
  /** The file as the user named it (for errors). */
  fileName: string;
  /** Its directory: where its relative paths start. */
  dir: string;
  services: Record<string, Doc>;
}

function isMap(value: unknown): value is Doc {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const absolute = (dir: string, p: string) => (path.isAbsolute(p) || /^[a-z]+:\/\//i.test(p) ? p : path.resolve(dir, p));

/** A short-syntax volume whose source is a path (not a volume name): "./data:/data", "/srv:/srv:ro", "~/x:/x". */
function rebaseVolume(dir: string, entry: unknown): unknown {
  if (isMap(entry)) return entry.type === "bind" && typeof entry.source === "string" ? { ...entry, source: absolute(dir, entry.source) } : entry;
  const text = String(entry);
  const colon = text.indexOf(":");
  if (colon < 0 || !text.startsWith(".")) return entry;
  return `${absolute(dir, text.slice(0, colon))}${text.slice(colon)}`;
}

/**
 * A service definition with its relative paths (build context, bind sources, env files, the
 * file an `extends` names) made absolute against `dir`.
 *
 * @example
 * ```ts
 * rebaseService({ build: "./app", volumes: ["./src:/src"] }, "/repo/base"); // { build: "/repo/base/app", volumes: ["/repo/base/src:/src"] }
 * ```
 */
export function rebaseService(service: Doc, dir: string): Doc {
  const out: Doc = { ...service };
  if (typeof out.build === "string") out.build = absolute(dir, out.build);
  else if (isMap(out.build)) out.build = { ...out.build, context: absolute(dir, typeof out.build.context === "string" ? out.build.context : ".") };
  if (Array.isArray(out.volumes)) out.volumes = out.volumes.map((v) => rebaseVolume(dir, v));
  if (typeof out.env_file === "string") out.env_file = absolute(dir, out.env_file);
  else if (Array.isArray(out.env_file)) out.env_file = out.env_file.map((e) => (typeof e === "string" ? absolute(dir, e) : isMap(e) && typeof e.path === "string" ? { ...e, path: absolute(dir, e.path) } : e));
  if (isMap(out.extends) && typeof out.extends.file === "string") out.extends = { ...out.extends, file: absolute(dir, out.extends.file) };
  return out;
}

/**
 * Resolves every service's `extends` in `file`: the service is merged over the one it names
 * (itself resolved first), with compose's merge rules; a service of another file has its paths
 * rebased first. `readFile` loads (and interpolates) another compose file. A cycle, or a service
 * or file that does not exist, is a ComposeError naming the chain and the fix.
 *
 * @example
 * ```ts
 * resolveExtends({ fileName: "compose.yaml", dir: "/p", services: { web: { extends: "base", ports: ["80"] }, base: { image: "nginx" } } }, read);
 * ```
 */
export function resolveExtends(file: ServiceFile, readFile: (absolutePath: string, from: { fileName: string; segments: (string | number)[] }) => ServiceFile): Record<string, Doc> {
  const resolved = new Map<string, Doc>();
  const label = (f: ServiceFile, name: string) => (f === file ? name : `${name} (${f.fileName})`);
  const resolve = (f: ServiceFile, name: string, chain: { key: string; label: string }[]): Doc => {
    const key = `${f.fileName}\0${name}`;
    const done = resolved.get(key);
    if (done) return done;
    const service = f.services[name]!;
    if (service.extends === undefined) return service;
    const here = [...chain, { key, label: label(f, name) }];
    const ext = typeof service.extends === "string" ? { service: service.extends } : (service.extends as Doc);
    const baseName = String(ext.service);
    const baseFile = typeof ext.file === "string" ? readFile(absolute(f.dir, ext.file), { fileName: f.fileName, segments: ["services", name, "extends", "file"] }) : f;
    const start = here.findIndex((link) => link.key === `${baseFile.fileName}\0${baseName}`);
    if (start >= 0) {
      const cycle = [...here.slice(start), here[start]!].map((link) => link.label);
      throw new ComposeError("ERR_COMPOSE_VALUE", `services.${name}.extends`, `extends cycle: ${cycle.join(" -> ")}; a service cannot extend itself, even through others: remove one of these extends`, { file: f.fileName });
    }
    if (!isMap(baseFile.services[baseName])) {
      const where = baseFile === f ? "" : ` in ${baseFile.fileName}`;
      throw new ComposeError(
        "ERR_COMPOSE_VALUE",
        `services.${name}.extends`,
        `extends the undefined service ${JSON.stringify(baseName)}${where}; define it, or fix the name (services there: ${Object.keys(baseFile.services).join(", ") || "none"})`,
        { file: f.fileName },
      );
    }
    let base = resolve(baseFile, baseName, here);
    if (baseFile.dir !== f.dir) base = rebaseService(base, baseFile.dir);
    const { extends: _own, ...own } = service;
    const { extends: _inherited, ...inherited } = base;
    const merged = mergeService(inherited, own);
    resolved.set(key, merged);
    return merged;
  };
  const out: Record<string, Doc> = {};
  for (const name of Object.keys(file.services)) out[name] = isMap(file.services[name]) ? resolve(file, name, []) : file.services[name]!;
  return out;
}
