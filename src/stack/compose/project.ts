/**
 * One compose model from several files, as compose builds it: each file is interpolated, its
 * `include`s are loaded as projects of their own (paths relative to their own directory) and
 * added, the files are merged in order (`-f a -f b`, or a file and its override), and then every
 * service's `extends` is resolved.
 */
import path from "node:path";
import { ComposeError, type ComposeErrorCode } from "../errors.js";
import type { Segments } from "./context.js";
import { rebaseService, resolveExtends, type ServiceFile } from "./extends.js";
import { readComposeFile, type ParsedComposeFile } from "./files.js";
import { interpolateDocument, type VariableLookup } from "./interpolate.js";
import { mergeDocuments } from "./merge.js";
import { formatPath, validateWithSchemaFile } from "./validate.js";

type Doc = Record<string, unknown>;

/** What assembling needs from the loader. */
export interface AssembleOptions {
  lookup: VariableLookup;
  /** Called once per variable that is used but not set. */
  onUnset(name: string, segments: Segments): void;
  /** A JSON schema file each raw file is also checked against. */
  schema?: string | undefined;
}

function isMap(value: unknown): value is Doc {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws a ComposeError located in `file`. */
export function failIn(file: ParsedComposeFile, segments: Segments, reason: string, code: ComposeErrorCode = "ERR_COMPOSE_VALUE"): never {
  throw new ComposeError(code, formatPath(segments), reason, { file: file.fileName, ...file.locate(segments) });
}

/** Top-level secrets and configs with their `file` made absolute against `dir`. */
function rebaseFileSources(value: unknown, dir: string): unknown {
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isMap(v) && typeof v.file === "string" ? { ...v, file: path.resolve(dir, v.file) } : v]));
}

/**
 * The merged, interpolated document of `files` (in order), with includes added and extends
 * resolved.
 *
 * @example
 * ```ts
 * const document = assembleProject([readComposeFile("/p/compose.yaml", "compose.yaml")], { lookup, onUnset });
 * ```
 */
export function assembleProject(files: readonly ParsedComposeFile[], options: AssembleOptions): Doc {
  const interpolated = new Map<ParsedComposeFile, Doc>();
  const byPath = new Map<string, ParsedComposeFile>();
  const serviceFiles = new Map<string, ServiceFile>();

  const interpolate = (file: ParsedComposeFile): Doc => {
    let doc = interpolated.get(file);
    if (doc === undefined) {
      if (options.schema !== undefined) {
        const problem = validateWithSchemaFile(file.raw, options.schema);
        if (problem) failIn(file, problem.segments, problem.message, "ERR_COMPOSE_SCHEMA");
      }
      doc = interpolateDocument(file.raw, options.lookup, options.onUnset, (segments, failure) => failIn(file, segments, failure.message, "ERR_COMPOSE_VARIABLE")) as Doc;
      interpolated.set(file, doc);
    }
    return doc;
  };
  const read = (absolute: string, from: ParsedComposeFile, segments: Segments): ParsedComposeFile => {
    let file = byPath.get(absolute);
    if (file === undefined) {
      file = readComposeFile(absolute, absolute, { fileName: from.fileName, path: formatPath(segments), ...from.locate(segments) });
      byPath.set(absolute, file);
    }
    return file;
  };

  const project = (parts: readonly ParsedComposeFile[], chain: readonly string[]): Doc => {
    const docs = parts.map((f) => withIncludes(f, chain));
    const merged = docs.reduce((a, b) => mergeDocuments(a, b));
    const first = parts[0]!;
    const services = isMap(merged.services) ? merged.services : {};
    const file: ServiceFile = { fileName: first.fileName, dir: first.dir, services: services as Record<string, Doc> };
    const readServices = (absolute: string, from: { fileName: string; segments: (string | number)[] }): ServiceFile => {
      let other = serviceFiles.get(absolute);
      if (other === undefined) {
        const origin = parts.find((p) => p.fileName === from.fileName) ?? first;
        const parsed = read(absolute, origin, from.segments);
        const doc = interpolate(parsed);
        other = { fileName: parsed.fileName, dir: parsed.dir, services: (isMap(doc.services) ? doc.services : {}) as Record<string, Doc> };
        serviceFiles.set(absolute, other);
      }
      return other;
    };
    const out: Doc = { ...merged };
    if (merged.services !== undefined) out.services = resolveExtends(file, readServices);
    delete out.include;
    return out;
  };

  const withIncludes = (file: ParsedComposeFile, chain: readonly string[]): Doc => {
    const doc = interpolate(file);
    const includes = doc.include;
    if (includes === undefined) return doc;
    const me = path.join(file.dir, path.basename(file.fileName));
    const out: Doc = { ...doc };
    delete out.include;
    (includes as unknown[]).forEach((entry, i) => {
      const segs = ["include", i];
      const long = isMap(entry) ? entry : undefined;
      const given = long ? long.path : entry;
      const paths = (Array.isArray(given) ? given : [given]).map((p) => path.resolve(file.dir, String(p)));
      for (const p of paths) {
        if (p === me || chain.includes(p)) failIn(file, segs, `include cycle: ${[...chain, me, p].map((f) => path.basename(f)).join(" -> ")}; a file cannot include itself, even through others`);
      }
      const parts = paths.map((p, j) => read(p, file, long && Array.isArray(given) ? [...segs, "path", j] : long ? [...segs, "path"] : segs));
      const included = project(parts, [...chain, me]);
      const projectDir = long && typeof long.project_directory === "string" ? path.resolve(file.dir, long.project_directory) : parts[0]!.dir;
      for (const key of ["services", "networks", "volumes", "secrets", "configs"]) {
        const found = included[key];
        if (!isMap(found)) continue;
        let resources: Doc = found;
        if (key === "services") resources = Object.fromEntries(Object.entries(resources).map(([n, s]) => [n, isMap(s) ? rebaseService(s, projectDir) : s]));
        if (key === "secrets" || key === "configs") resources = rebaseFileSources(resources, projectDir) as Doc;
        const mine = isMap(out[key]) ? (out[key] as Doc) : {};
        for (const name of Object.keys(resources)) {
          if (Object.hasOwn(mine, name)) failIn(file, segs, `${key}.${name} is defined both here and in the included ${paths.map((p) => path.basename(p)).join(", ")}; rename one of them (compose refuses such a conflict)`);
        }
        out[key] = { ...resources, ...mine };
      }
    });
    return out;
  };

  return project(files, []);
}
