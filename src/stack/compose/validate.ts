/**
 * Schema validation of compose documents with ajv: bento's own schema (always), and optionally the
 * compose specification's schema from a file the caller names. Errors become one readable problem:
 * the deepest failing value, its dotted path, what was wrong and what the schema expects there.
 */
import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
import { ajv2020Package, ajvPackage } from "../../deps.js";
import { composeSchema } from "./schema.js";

/** One schema problem: the dotted path of the value and what is wrong with it. */
export interface SchemaProblem {
  /** Path segments (keys and indexes). */
  segments: (string | number)[];
  /** The dotted form, such as `services.web.ports[0]`. */
  path: string;
  /** What is wrong and what is expected. */
  message: string;
}

/** Formats path segments as `services.web.ports[0]`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[a-zA-Z0-9_-]+$/.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function segmentsOf(instancePath: string): string[] {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The segments, with array indexes as numbers (ajv gives every segment as a string). */
function typedSegments(data: unknown, raw: readonly (string | number)[]): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: unknown = data;
  for (const s of raw) {
    if (Array.isArray(cur)) {
      out.push(Number(s));
      cur = cur[Number(s)];
    } else {
      out.push(s);
      cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[s] : undefined;
    }
  }
  return out;
}

type Schema = Record<string, unknown>;

/** The description of the schema at `segments` (bento's schema shape: properties, additionalProperties, items, anyOf). */
function descriptionAt(schema: Schema, segments: readonly (string | number)[]): string | undefined {
  const branches = [schema, ...((schema.anyOf as Schema[] | undefined) ?? [])];
  if (segments.length === 0) {
    for (const b of branches) if (typeof b.description === "string") return b.description;
    return undefined;
  }
  const [head, ...rest] = segments;
  for (const b of branches) {
    const props = b.properties as Record<string, Schema> | undefined;
    let child: Schema | undefined;
    if (typeof head === "string") child = props?.[head] ?? (typeof b.additionalProperties === "object" ? (b.additionalProperties as Schema) : undefined);
    else if (typeof b.items === "object") child = b.items as Schema;
    const found = child === undefined ? undefined : descriptionAt(child, rest);
    if (found !== undefined) return found;
  }
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

const preference: Record<string, number> = { additionalProperties: 0, required: 1, enum: 2, propertyNames: 3, pattern: 4, type: 5 };

/** Picks the most useful of ajv's errors and words it. */
function problemOf(errors: readonly ErrorObject[], data: unknown, schema: Schema): SchemaProblem {
  const relevant = errors.filter((e) => e.keyword !== "anyOf" && e.keyword !== "oneOf" && e.keyword !== "if");
  const pool = relevant.length > 0 ? relevant : [...errors];
  const depth = (e: ErrorObject) => segmentsOf(e.instancePath).length + (e.keyword === "additionalProperties" || e.keyword === "required" ? 1 : 0);
  pool.sort((a, b) => depth(b) - depth(a) || (preference[a.keyword] ?? 9) - (preference[b.keyword] ?? 9));
  const e = pool[0] as ErrorObject;
  const segments = typedSegments(data, segmentsOf(e.instancePath));
  let value: unknown = data;
  for (const s of segments) value = (value as Record<string | number, unknown>)[s];
  const expected = descriptionAt(schema, segments);
  const expects = expected === undefined ? "" : `; expected ${expected}`;
  let message: string;
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys(((e.parentSchema as Schema | undefined)?.properties as Schema | undefined) ?? {});
      const close = known
        .map((k) => [k, levenshtein(k, key)] as const)
        .filter(([, d]) => d <= 2)
        .sort((x, y) => x[1] - y[1])[0];
      segments.push(key);
      message = `unknown key ${JSON.stringify(key)}${close ? ` (did you mean ${JSON.stringify(close[0])}?)` : ""}; keys starting with "x-" are extensions, any other must be a compose key`;
      break;
    }
    case "required": {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      segments.push(key);
      message = `missing the key ${JSON.stringify(key)}${expects}`;
      break;
    }
    case "enum":
      message = `${kindOf(value)} is not allowed${expects}`;
      break;
    case "propertyNames": {
      const key = String((e.params as { propertyName: string }).propertyName);
      segments.push(key);
      message = `the name ${JSON.stringify(key)} may only hold letters, digits, ".", "_" and "-"`;
      break;
    }
    default:
      message = `got ${kindOf(value)}${expects === "" ? `: ${e.message ?? "invalid"}` : expects}`;
  }
  return { segments, path: formatPath(segments), message };
}

let bentoValidator: ValidateFunction | undefined;

/**
 * Validates an (interpolated) document against bento's compose schema; the first problem, or
 * undefined when it is valid.
 *
 * @example
 * ```ts
 * validateBentoSchema({ services: { web: { imgae: "x" } } })?.message; // unknown key "imgae" (did you mean "image"?)...
 * ```
 */
export function validateBentoSchema(document: unknown): SchemaProblem | undefined {
  bentoValidator ??= new (ajvPackage().Ajv)({ allErrors: true, strict: false, verbose: true }).compile(composeSchema());
  if (bentoValidator(document)) return undefined;
  return problemOf(bentoValidator.errors ?? [], document, composeSchema());
}

const specValidators = new Map<string, ValidateFunction>();

/**
 * Validates a raw (uninterpolated) document against a JSON schema file, such as the compose
 * specification's `compose-spec.json` (draft 2020-12) or its draft-07 copy. The first problem, or
 * undefined when it is valid.
 *
 * @example
 * ```ts
 * validateWithSchemaFile(doc, "../shared/corpora/compose/schema/compose-spec.json");
 * ```
 */
export function validateWithSchemaFile(document: unknown, schemaPath: string): SchemaProblem | undefined {
  let validate = specValidators.get(schemaPath);
  let schema: Schema;
  if (validate === undefined) {
    schema = JSON.parse(readFileSync(schemaPath, "utf8")) as Schema;
    const is2020 = typeof schema.$schema === "string" && schema.$schema.includes("2020-12");
    const options = { allErrors: true, strict: false, verbose: true, validateSchema: false } as const;
    validate = is2020 ? new (ajv2020Package().Ajv2020)(options).compile(schema) : new (ajvPackage().Ajv)(options).compile(schema);
    specValidators.set(schemaPath, validate);
  } else {
    schema = validate.schema as Schema;
  }
  if (validate(document)) return undefined;
  const errors = validate.errors ?? [];
  const e = errors.find((x) => x.keyword !== "oneOf" && x.keyword !== "anyOf") ?? errors[0];
  const segments = typedSegments(document, segmentsOf(e?.instancePath ?? ""));
  const extra = e?.keyword === "additionalProperties" ? ` ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}` : "";
  return { segments, path: formatPath(segments), message: `does not match the schema ${schemaPath}: ${e?.message ?? "invalid"}${extra}` };
}
