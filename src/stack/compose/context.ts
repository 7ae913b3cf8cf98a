/**
 * What the compose normalizers share: the project's directory and name, the variable lookup, the
 * lists of unsupported keys and warnings, and `fail()`, which throws a ComposeError located in the
 * file. Plus the value converters every key uses (booleans, integers, durations, maps written as
 * lists), which accept the strings interpolation produces.
 */
import { InvalidOptionError } from "../../errors.js";
import { parseGoDurationMs } from "../../image/duration.js";
import type { ComposeErrorCode } from "../errors.js";
import type { VariableLookup } from "./interpolate.js";
import { formatPath } from "./validate.js";

/** Path segments of a value in the document. */
export type Segments = readonly (string | number)[];

/** The state of one load. */
export interface NormalizeContext {
  /** Relative paths (build contexts, bind sources, env files) resolve against it. */
  projectDir: string;
  projectName: string;
  /** The environment interpolation used: `environment: [KEY]` entries take their values from it. */
  lookup: VariableLookup;
  /** Records a key bento does not honour. */
  unsupported(segments: Segments, reason: string): void;
  /** Records a warning. */
  warn(message: string): void;
  /** Throws a ComposeError for the value at `segments`. */
  fail(segments: Segments, reason: string, code?: ComposeErrorCode): never;
  /** Reads a file the document names (an env_file); fails with ERR_COMPOSE_FILE naming `segments`. */
  readText(file: string, segments: Segments): string | undefined;
}

/** Joins segments. */
export function at(segments: Segments, ...more: (string | number)[]): (string | number)[] {
  return [...segments, ...more];
}

/** The dotted form of segments. */
export function pathOf(segments: Segments): string {
  return formatPath(segments);
}

const truthy = new Set(["true", "y", "yes", "on"]);
const falsy = new Set(["false", "n", "no", "off"]);

/** A boolean, or a string compose reads as one ("true", "yes", "off"...). */
export function toBool(ctx: NormalizeContext, segments: Segments, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const v = value.toLowerCase();
    if (truthy.has(v)) return true;
    if (falsy.has(v)) return false;
  }
  return ctx.fail(segments, `${JSON.stringify(value)} is not a boolean; use true or false`);
}

/** A whole number (or one written as a string), at least `min`. */
export function toInt(ctx: NormalizeContext, segments: Segments, value: unknown, min = 0): number {
  const n = typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) return ctx.fail(segments, `${JSON.stringify(value)} is not a whole number`);
  if (n < min) return ctx.fail(segments, `${n} must be ${min} or more`);
  return n;
}

/** A number (or one written as a string), above 0. */
export function toPositiveNumber(ctx: NormalizeContext, segments: Segments, value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) return ctx.fail(segments, `${JSON.stringify(value)} must be a number above 0, such as 0.5`);
  return n;
}

/** A Go duration ("1m30s", "500ms") in milliseconds. */
export function toDurationMs(ctx: NormalizeContext, segments: Segments, value: unknown): number {
  const ms = typeof value === "string" ? parseGoDurationMs(value.trim()) : undefined;
  if (ms === undefined || ms < 0) return ctx.fail(segments, `${JSON.stringify(value)} is not a duration; write a number with a unit, such as "30s", "1m30s" or "500ms"`);
  return ms;
}

/** A string list, or a single string as a one-item list. */
export function toStringList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.map(String) : [];
}

/**
 * A map written as a map or as a list of `KEY=value` (compose's `list_or_dict`). `missing` decides
 * what a value-less entry (`- KEY` or `KEY: null`) becomes: a string, or undefined to leave it out.
 */
export function toStringMap(ctx: NormalizeContext, segments: Segments, value: unknown, missing: (key: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      const text = String(entry);
      const eq = text.indexOf("=");
      const key = eq < 0 ? text : text.slice(0, eq);
      if (key === "") ctx.fail(at(segments, i), `${JSON.stringify(text)} has no name before "="; write KEY=value`);
      const v = eq < 0 ? missing(key) : text.slice(eq + 1);
      if (v !== undefined) out[key] = v;
    });
    return out;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key.startsWith("x-") && typeof v === "object" && v !== null) continue;
    const s = v === null || v === undefined ? missing(key) : String(v);
    if (s !== undefined) out[key] = s;
  }
  return out;
}

/**
 * Runs a bento option check and turns its InvalidOptionError into a compose error at `segments`,
 * so the message names the compose key rather than the SDK option.
 */
export function checked<T>(ctx: NormalizeContext, segments: Segments, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      const reason = error.message.startsWith(`${error.option}: `) ? error.message.slice(error.option.length + 2) : error.message;
      return ctx.fail(segments, reason);
    }
    throw error;
  }
}
