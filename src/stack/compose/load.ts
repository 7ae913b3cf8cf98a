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
import { isPair, isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";
import { DependencyCycleError, ComposeError, type ComposeErrorCode, type UnsupportedKey } from "../errors.js";
import { findCycle } from "../graph.js";
import type { NetworkPlan, ServicePlan, StackPlan, VolumePlan } from "../plan.js";
import { at, pathOf, toBool, toStringMap, type NormalizeContext, type Segments } from "./context.js";
import { DotenvSyntaxError, parseDotenv } from "./dotenv.js";
import { interpolateDocument, type VariableLookup } from "./interpolate.js";
import { fileSources } from "./secrets.js";
import { normalizeService } from "./service.js";
import { formatPath, validateBentoSchema, validateWithSchemaFile } from "./validate.js";

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
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, "").replace(/^[_-]+/, "") || "default";
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

/**
 * Compose (through YAML 1.1 rules) reads `mode: 0440` of a secret or config as octal, where YAML
 * 1.2 sees the decimal 440: give such plain scalars their octal value, as compose files mean it.
 */
function readLegacyOctalModes(doc: Document): void {
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.value !== "mode" || !isScalar(pair.value)) return;
      const source = pair.value.source;
      if (typeof source !== "string" || !/^0[0-7]+$/.test(source)) return;
      const inFiles = ancestors.some((a) => isPair(a) && isScalar(a.key) && (a.key.value === "secrets" || a.key.value === "configs"));
      if (inFiles) pair.value.value = parseInt(source, 8);
    },
  });
}

/** Finds the line and column of the value at `segments` (or of its nearest ancestor in the file). */
function locator(doc: Document, lines: LineCounter): (segments: Segments) => { line?: number; column?: number } {
  return (segments) => {
    for (let n = segments.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        const pos = lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  };
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
export function loadCompose(file: string, options?: LoadComposeOptions): StackPlan;
export function loadCompose(source: ComposeText): StackPlan;
export function loadCompose(fileOrSource: string | ComposeText, maybeOptions: LoadComposeOptions = {}): StackPlan {
  let text: string;
  let fileName: string;
  let projectDir: string;
  let options: LoadComposeOptions;
  if (typeof fileOrSource === "string") {
    const file = path.resolve(fileOrSource);
    fileName = fileOrSource;
    projectDir = path.dirname(file);
    options = maybeOptions;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "EIO";
      throw new ComposeError("ERR_COMPOSE_FILE", "", `cannot read the compose file (${code}); check the path`, { file: fileName }, { cause: error });
    }
  } else {
    if (typeof fileOrSource?.yaml !== "string") throw new ComposeError("ERR_COMPOSE_FILE", "", "pass a file path, or { yaml: text }", { file: "<inline>" });
    text = fileOrSource.yaml;
    fileName = "<inline>";
    projectDir = path.resolve(fileOrSource.projectDir ?? ".");
    options = fileOrSource;
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { version: "1.2", schema: "core", merge: true, uniqueKeys: true, lineCounter: lines, prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0];
    const reason = yamlError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new ComposeError("ERR_COMPOSE_YAML", "", `${reason}; fix the YAML syntax`, { file: fileName, line: pos?.line, column: pos?.col });
  }
  const locate = locator(doc, lines);
  const fail = (segments: Segments, reason: string, code: ComposeErrorCode = "ERR_COMPOSE_VALUE"): never => {
    throw new ComposeError(code, formatPath(segments), reason, { file: fileName, ...locate(segments) });
  };
  readLegacyOctalModes(doc);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new ComposeError("ERR_COMPOSE_YAML", "", `${(error as Error).message}; fix the YAML`, { file: fileName }, { cause: error });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail([], "the document must be a map with a services key, such as \"services:\\n  web:\\n    image: nginx\"", "ERR_COMPOSE_SCHEMA");

  if (options.schema !== undefined) {
    const problem = validateWithSchemaFile(raw, options.schema);
    if (problem) fail(problem.segments, problem.message, "ERR_COMPOSE_SCHEMA");
  }

  // Variables: the environment wins over the env file, as in compose.
  const base = options.env ?? process.env;
  const fromEnv: VariableLookup = (name) => (Object.hasOwn(base, name) ? base[name] : undefined);
  let dotenv: Record<string, string> = {};
  if (options.envFile !== false) {
    const envFile = options.envFile === undefined ? (typeof fileOrSource === "string" || fileOrSource.projectDir !== undefined ? path.join(projectDir, ".env") : undefined) : path.resolve(options.envFile);
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
  const document = interpolateDocument(raw, lookup, (name, segments) => {
    if (unset.has(name)) return;
    unset.add(name);
    warnings.push(`the ${JSON.stringify(name)} variable is not set (first used at ${pathOf(segments)}); defaulting to a blank string`);
  }, (segments, failure) => fail(segments, failure.message, "ERR_COMPOSE_VARIABLE")) as Record<string, unknown>;

  const problem = validateBentoSchema(document);
  if (problem) fail(problem.segments, problem.message, "ERR_COMPOSE_SCHEMA");

  let name: string;
  if (options.projectName !== undefined || typeof document.name === "string") {
    name = options.projectName ?? (document.name as string);
    if (!projectNamePattern.test(name)) {
      if (options.projectName !== undefined) throw new ComposeError("ERR_COMPOSE_VALUE", "projectName", `${JSON.stringify(name)} is not a project name: use lower-case letters, digits, "_" and "-", starting with a letter or digit`, { file: fileName });
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
  for (const key of ["include", "models"]) {
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

  // References between services, then the graph.
  const graph = new Map<string, string[]>();
  for (const [serviceName, service] of Object.entries(services)) {
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
