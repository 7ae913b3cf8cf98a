/**
 * `loadCompose()`: a compose file to a {@link StackPlan}, in compose's order. Read the file; parse it
 * as YAML 1.2 (core schema: `22:22` stays a string) with merge keys; optionally validate the raw
 * document against a schema file (the compose specification's); read `.env`; interpolate every
 * value; validate against bento's schema; normalize each service; check references and the
 * dependency graph. Pure apart from reading the compose file, `.env` and `env_file`s: nothing is
 * created, and build contexts and bind sources need not exist yet.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DependencyCycleError, ComposeError, type ComposeErrorCode, type UnsupportedKey } from "../errors.js";
import { findCycle } from "../graph.js";
import type { NetworkPlan, ServicePlan, StackPlan, VolumePlan } from "../plan.js";
import { at, pathOf, toBool, toStringMap, type NormalizeContext, type Segments } from "./context.js";
import { DotenvSyntaxError, parseDotenv } from "./dotenv.js";
import type { VariableLookup } from "./interpolate.js";
import { composeFilesOf, parseComposeText, readComposeFile, type ParsedComposeFile } from "./files.js";
import { assembleProject, failIn } from "./project.js";
import { fileSources } from "./secrets.js";
import { checkNamespaceReferences } from "./namespaces.js";
import { normalizeService } from "./service.js";
import { formatPath, validateBentoSchema } from "./validate.js";

/**
 * Options of {@link loadCompose}.
 *
 * @example
 * ```ts
 * loadCompose("compose.yaml", { projectName: "ci", env: { TAG: "16" }, envFile: ".env.ci", schema: "compose-spec.json" });
 * ```
 */
export interface LoadComposeOptions {
  /** The project name; default the file's `name:`, else its directory's name (lower-cased). */
  projectName?: string;
  /** The variables for interpolation; default `process.env`. They override the `.env` file's. */
  env?: Record<string, string | undefined>;
  /**
   * The env file for interpolation (relative to the current directory). Default: `.env` in the
   * project directory, when it exists. `false`: none.
   */
  envFile?: string | false;
  /**
   * A JSON schema file to validate the raw (uninterpolated) document against as well, such as the
   * compose specification's `compose-spec.json` (draft 2020-12) or its draft-07 copy. bento's own
   * schema, which knows every compose key, is always applied.
   */
  schema?: string;
  /**
   * With a path to `compose.yaml` (or another default name) or to a directory: also merge the
   * `compose.override.yaml` next to it when there is one, as compose does (default true).
   */
  override?: boolean;
}

/**
 * Compose YAML given as text instead of a path.
 *
 * @example
 * ```ts
 * loadCompose({ yaml: "services:\n  web:\n    image: nginx\n", projectDir: "./deploy", env: {} });
 * ```
 */
export interface ComposeText extends LoadComposeOptions {
  /** The compose document. */
  yaml: string;
  /** Where relative paths (build contexts, bind sources, env files) start; default the current directory. */
  projectDir?: string;
}

const projectNamePattern = /^[a-z0-9][a-z0-9_-]*$/;

function normalizeProjectName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "")
      .replace(/^[_-]+/, "") || "default"
  );
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function topLevel(ctx: NormalizeContext, kind: "networks" | "volumes", raw: Record<string, unknown> | undefined): Record<string, NetworkPlan | VolumePlan> {
  const out: Record<string, NetworkPlan | VolumePlan> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    const segs = [kind, key];
    const v = (value ?? {}) as Record<string, unknown>;
    const external = v.external === undefined ? false : toBool(ctx, at(segs, "external"), v.external);
    const name = typeof v.name === "string" ? v.name : external ? key : `${ctx.projectName}_${key}`;
    const defaultDriver = kind === "networks" ? "bridge" : "local";
    if (v.driver !== undefined && v.driver !== defaultDriver) ctx.unsupported(at(segs, "driver"), `the ${String(v.driver)} driver is not supported (bento's ${kind} use their own)`);
    for (const k of Object.keys(v)) {
      if (!["name", "external", "labels", "driver"].includes(k) && !k.startsWith("x-")) ctx.unsupported(at(segs, k), `${kind === "networks" ? "network" : "volume"} ${k} is not supported`);
    }
    out[key] = { name, external, labels: toStringMap(ctx, at(segs, "labels"), v.labels, () => "") };
  }
  return out;
}

/**
 * Loads a compose file into a {@link StackPlan}. Throws {@link ComposeError} (with the file, line and
 * the dotted path of the bad value) for a file that cannot be used, and {@link DependencyCycleError}
 * for services that depend on each other in a circle. Keys bento does not honour do not throw: they
 * are listed in `plan.unsupported` (and `Stack.up()` refuses them).
 *
 * @example
 * ```ts
 * const plan = loadCompose("./compose.yaml", { env: { TAG: "16" } });
 * const inline = loadCompose({ yaml: "services:\n  web:\n    image: nginx\n", projectName: "demo" });
 * ```
 */
export function loadCompose(file: string | readonly string[], options?: LoadComposeOptions): StackPlan;
export function loadCompose(source: ComposeText): StackPlan;
export function loadCompose(fileOrSource: string | readonly string[] | ComposeText, maybeOptions: LoadComposeOptions = {}): StackPlan {
  let files: ParsedComposeFile[];
  let options: LoadComposeOptions;
  const fromFiles = typeof fileOrSource === "string" || Array.isArray(fileOrSource);
  if (typeof fileOrSource === "string") {
    options = maybeOptions;
    const paths = options.override === false ? [path.resolve(fileOrSource)] : composeFilesOf(fileOrSource);
    files = paths.map((p, i) => readComposeFile(p, i === 0 && path.resolve(fileOrSource) === p ? fileOrSource : p));
  } else if (Array.isArray(fileOrSource)) {
    options = maybeOptions;
    if (fileOrSource.length === 0 || fileOrSource.some((f) => typeof f !== "string")) throw new ComposeError("ERR_COMPOSE_FILE", "", "pass at least one compose file path", { file: "<none>" });
    files = (fileOrSource as string[]).map((f) => readComposeFile(path.resolve(f), f));
  } else {
    const source = fileOrSource as ComposeText;
    if (typeof source?.yaml !== "string") throw new ComposeError("ERR_COMPOSE_FILE", "", "pass a file path, or { yaml: text }", { file: "<inline>" });
    options = source;
    files = [parseComposeText(source.yaml, "<inline>", path.resolve(source.projectDir ?? "."))];
  }
  const projectDir = files[0]!.dir;
  const fileName = files[0]!.fileName;
  // A value's error names the last of the files that sets it (or most of its path), as that one wins.
  const fail = (segments: Segments, reason: string, code: ComposeErrorCode = "ERR_COMPOSE_VALUE"): never => {
    let owner = files[0]!;
    let best = -1;
    for (const f of files) {
      const n = f.defines(segments);
      if (n >= best) [owner, best] = [f, n];
    }
    return failIn(owner, segments, reason, code);
  };

  // Variables: the environment wins over the env file, as in compose.
  const base = options.env ?? process.env;
  const fromEnv: VariableLookup = (name) => (Object.hasOwn(base, name) ? base[name] : undefined);
  let dotenv: Record<string, string> = {};
  if (options.envFile !== false) {
    const envFile = options.envFile === undefined ? (fromFiles || (fileOrSource as ComposeText).projectDir !== undefined ? path.join(projectDir, ".env") : undefined) : path.resolve(options.envFile);
    const envText = envFile === undefined ? undefined : readOptional(envFile);
    if (envText === undefined && options.envFile !== undefined) {
      throw new ComposeError("ERR_COMPOSE_FILE", "", `the env file "${envFile}" does not exist; check the envFile option`, { file: fileName });
    }
    if (envText !== undefined) {
      try {
        dotenv = parseDotenv(envText, fromEnv);
      } catch (error) {
        if (error instanceof DotenvSyntaxError) throw new ComposeError("ERR_COMPOSE_FILE", "", error.message, { file: envFile as string, line: error.line });
        throw error;
      }
    }
  }
  const lookup: VariableLookup = (name) => fromEnv(name) ?? (Object.hasOwn(dotenv, name) ? dotenv[name] : undefined);

  const warnings: string[] = [];
  const unset = new Set<string>();
  const onUnset = (name: string, segments: Segments) => {
    if (unset.has(name)) return;
    unset.add(name);
    warnings.push(`the ${JSON.stringify(name)} variable is not set (first used at ${pathOf(segments)}); defaulting to a blank string`);
  };
  const document = assembleProject(files, { lookup, onUnset, schema: options.schema });

  const problem = validateBentoSchema(document);
  if (problem) fail(problem.segments, problem.message, "ERR_COMPOSE_SCHEMA");

  let name: string;
  if (options.projectName !== undefined || typeof document.name === "string") {
    name = options.projectName ?? (document.name as string);
    if (!projectNamePattern.test(name)) {
      if (options.projectName !== undefined)
        throw new ComposeError("ERR_COMPOSE_VALUE", "projectName", `${JSON.stringify(name)} is not a project name: use lower-case letters, digits, "_" and "-", starting with a letter or digit`, { file: fileName });
      fail(["name"], `${JSON.stringify(name)} is not a project name: use lower-case letters, digits, "_" and "-", starting with a letter or digit`);
    }
  } else {
    name = normalizeProjectName(path.basename(projectDir));
  }

  const unsupported: UnsupportedKey[] = [];
  const ctx: NormalizeContext = {
    projectDir,
    projectName: name,
    lookup,
    unsupported: (segments, reason) => unsupported.push({ path: formatPath(segments), reason }),
    warn: (message) => warnings.push(message),
    fail,
    readText: (f, segments) => {
      try {
        return readOptional(f);
      } catch (error) {
        return fail(segments, `cannot read "${f}" (${(error as NodeJS.ErrnoException).code ?? "EIO"})`, "ERR_COMPOSE_FILE");
      }
    },
  };

  if (document.version !== undefined) warnings.push("the top-level version key is obsolete and ignored");
  for (const key of ["models"]) {
    if (document[key] !== undefined) ctx.unsupported([key], `top-level ${key} is not supported`);
  }
  const networks = topLevel(ctx, "networks", document.networks as Record<string, unknown> | undefined) as Record<string, NetworkPlan>;
  const volumes = topLevel(ctx, "volumes", document.volumes as Record<string, unknown> | undefined) as Record<string, VolumePlan>;
  const secrets = fileSources(ctx, "secrets", document.secrets as Record<string, unknown> | undefined);
  const configs = fileSources(ctx, "configs", document.configs as Record<string, unknown> | undefined);
  const declared = { networks: new Set(Object.keys(networks)), volumes: new Set(Object.keys(volumes)), secrets: new Set(Object.keys(secrets)), configs: new Set(Object.keys(configs)) };

  const services: Record<string, ServicePlan> = {};
  const rawServices = (document.services ?? {}) as Record<string, Record<string, unknown>>;
  if (Object.keys(rawServices).length === 0) fail(document.services === undefined ? [] : ["services"], "the file defines no services; add a services key with at least one service", "ERR_COMPOSE_SCHEMA");
  for (const [serviceName, rawService] of Object.entries(rawServices)) services[serviceName] = normalizeService(ctx, serviceName, rawService, declared);

  checkNamespaceReferences(services, fail);
  // References between services, then the graph.
  const graph = new Map<string, string[]>();
  for (const [serviceName, service] of Object.entries(services)) {
    const shared = service.sharesNetworkOf;
    if (shared !== undefined && services[shared] === undefined) {
      fail(["services", serviceName, "network_mode"], `service ${serviceName} shares the network of the undefined service ${JSON.stringify(shared)} (services: ${Object.keys(services).join(", ")}); name one of them after "service:"`);
    }
    for (const [dep, spec] of Object.entries(service.dependsOn)) {
      if (services[dep] !== undefined) continue;
      if (spec.required) fail(["services", serviceName, "depends_on", dep], `service ${serviceName} depends on the undefined service ${JSON.stringify(dep)}; define it, or remove the dependency`);
      warnings.push(`service ${serviceName} depends on the undefined service ${JSON.stringify(dep)} (required: false); ignoring it`);
      delete service.dependsOn[dep];
    }
    graph.set(serviceName, Object.keys(service.dependsOn));
  }
  const cycle = findCycle(graph);
  if (cycle) throw new DependencyCycleError(cycle, `${fileName}: `);

  if (Object.values(services).some((s) => s.networks.default !== undefined) && networks.default === undefined) {
    networks.default = { name: `${name}_default`, external: false, labels: {} };
  }
  return { version: 1, name, projectDir, services, networks, volumes, secrets, configs, unsupported, warnings };
}
