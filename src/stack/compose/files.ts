/**
 * Compose files as the loader reads them: which files a path means (a directory's default file and
 * its `compose.override.yaml`), and one file parsed as YAML 1.2 (core schema, merge keys) into a
 * plain document, with a locator that turns a value's path into the file's line and column.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Document } from "yaml";
import { yamlPackage } from "../../deps.js";
import { ComposeError } from "../errors.js";
import type { Segments } from "./context.js";

/** The names compose looks for in a directory, in its order. */
export const defaultComposeFiles = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/** One parsed compose file. */
export interface ParsedComposeFile {
  /** The file as the user named it, or `"<inline>"`. */
  fileName: string;
  /** Its directory: where its relative paths start. */
  dir: string;
  /** The document, before interpolation. */
  raw: Record<string, unknown>;
  /** The line and column of the value at `segments`, or of its nearest ancestor in this file. */
  locate(segments: Segments): { line?: number; column?: number };
  /** How many leading segments of `segments` this file defines (0: none of it). */
  defines(segments: Segments): number;
}

/**
 * The files a path stands for: a directory means its default compose file; a default-named file
 * (`compose.yaml`...) comes with its override (`compose.override.yaml`, same extension family)
 * when one exists next to it, as compose picks it up.
 *
 * @example
 * ```ts
 * composeFilesOf("./deploy"); // ["/src/deploy/compose.yaml", "/src/deploy/compose.override.yaml"]
 * ```
 */
export function composeFilesOf(given: string): string[] {
  let file = path.resolve(given);
  if (existsSync(file) && statSync(file).isDirectory()) {
    const found = defaultComposeFiles.map((f) => path.join(file, f)).find((f) => existsSync(f));
    if (found === undefined) throw new ComposeError("ERR_COMPOSE_FILE", "", `no compose file in this directory (looked for ${defaultComposeFiles.join(", ")}); name the file`, { file: given });
    file = found;
  }
  const base = path.basename(file);
  if (!defaultComposeFiles.includes(base)) return [file];
  const stem = base.replace(/\.ya?ml$/, "");
  const override = [`${stem}.override.yaml`, `${stem}.override.yml`].map((f) => path.join(path.dirname(file), f)).find((f) => existsSync(f));
  return override === undefined ? [file] : [file, override];
}

/**
 * Compose (through YAML 1.1 rules) reads `mode: 0440` of a secret or config as octal, where YAML
 * 1.2 sees the decimal 440: give such plain scalars their octal value, as compose files mean it.
 */
function readLegacyOctalModes(doc: Document): void {
  const { isPair, isScalar, visit } = yamlPackage();
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

/**
 * Parses compose YAML text. A syntax error, or a document that is not a map, is a ComposeError
 * with the line.
 *
 * @example
 * ```ts
 * parseComposeText("services:\n  web:\n    image: nginx\n", "<inline>", process.cwd()).raw.services;
 * ```
 */
export function parseComposeText(text: string, fileName: string, dir: string): ParsedComposeFile {
  const { LineCounter, parseDocument } = yamlPackage();
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: "1.2", schema: "core", merge: true, uniqueKeys: true, lineCounter: lines, prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0];
    const reason = yamlError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new ComposeError("ERR_COMPOSE_YAML", "", `${reason}; fix the YAML syntax`, { file: fileName, line: pos?.line, column: pos?.col });
  }
  readLegacyOctalModes(doc);
  const rangeAt = (segments: Segments, n: number) => ((n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true)) as { range?: [number, number, number] } | null | undefined)?.range;
  const defines = (segments: Segments): number => {
    for (let n = segments.length; n > 0; n--) if (rangeAt(segments, n)) return n;
    return 0;
  };
  const locate = (segments: Segments) => {
    for (let n = segments.length; n >= 0; n--) {
      const range = rangeAt(segments, n);
      if (range) {
        const pos = lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new ComposeError("ERR_COMPOSE_YAML", "", `${(error as Error).message}; fix the YAML`, { file: fileName }, { cause: error });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ComposeError("ERR_COMPOSE_SCHEMA", "", 'the document must be a map with a services key, such as "services:\\n  web:\\n    image: nginx"', { file: fileName, ...locate([]) });
  }
  return { fileName, dir, raw: raw as Record<string, unknown>, locate, defines };
}

/**
 * Reads and parses a compose file; an unreadable one is a ComposeError naming it.
 *
 * @example
 * ```ts
 * readComposeFile("/src/shop/compose.yaml", "compose.yaml").raw.services;
 * ```
 */
export function readComposeFile(file: string, fileName: string, from?: { fileName: string; path: string; line?: number }): ParsedComposeFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    if (from) throw new ComposeError("ERR_COMPOSE_FILE", from.path, `cannot read the compose file "${file}" (${code}); check the path`, { file: from.fileName, line: from.line }, { cause: error });
    throw new ComposeError("ERR_COMPOSE_FILE", "", `cannot read the compose file (${code}); check the path`, { file: fileName }, { cause: error });
  }
  return parseComposeText(text, fileName, path.dirname(file));
}
