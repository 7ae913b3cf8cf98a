/**
 * `.dockerignore` with Docker's rules (moby `patternmatcher` and its `ignorefile` reader, cited, not
 * copied): `#` comment lines, patterns cleaned like paths (a leading `/` and trailing `/` removed),
 * `*` and `?` within one path segment, `**` across segments, `[...]` classes, `\` escapes, `!`
 * exceptions, and the last matching pattern wins. A pattern also matches everything under a
 * directory it matches.
 */
import path from "node:path";
import { DockerfileSyntaxError } from "./errors.js";

/** One pattern of a `.dockerignore`, cleaned. */
export interface IgnorePattern {
  /** The cleaned pattern, without `!`. */
  pattern: string;
  /** True for `!pattern`: matching paths are included again. */
  exclusion: boolean;
  /** 1-based line in the file. */
  line: number;
}

/**
 * Decides whether a path of the build context is ignored. `relPath` is relative to the context root,
 * with `/` separators (`"src/app.ts"`, `"node_modules"`); `isDir` is accepted for the walker's
 * convenience, but Docker's rules do not treat directories differently (a trailing `/` in a pattern
 * is cleaned away).
 */
export interface IgnoreMatcher {
  (relPath: string, isDir: boolean): boolean;
  /** The patterns, in file order. */
  readonly patterns: readonly IgnorePattern[];
  /**
   * True when `relDir` is ignored and no `!` exception could match anything under it, so a walker
   * may skip the whole directory without reading it.
   */
  canSkipDir(relDir: string): boolean;
}

interface CompiledPattern extends IgnorePattern {
  regexp: RegExp;
  /** The text before the first wildcard, to tell whether an exception can reach into a directory. */
  literalPrefix: string;
}

/**
 * Reads `.dockerignore` text (a missing file is the empty string) and returns the matcher. Throws
 * {@link DockerfileSyntaxError} naming the line of a malformed pattern (a lone `!`, an unclosed `[`).
 *
 * @example
 * ```ts
 * const ignored = createIgnoreMatcher("node_modules\n**\/*.log\n!keep.log\n");
 * ignored("node_modules/x/index.js", false); // true
 * ignored("logs/a.log", false); // true
 * ignored("keep.log", false); // false
 * ```
 */
export function createIgnoreMatcher(patternsText: string, file = ".dockerignore"): IgnoreMatcher {
  const patterns = readPatterns(patternsText, file);
  const matcher = ((relPath: string, _isDir: boolean): boolean => isIgnored(patterns, cleanRelPath(relPath))) as IgnoreMatcher;
  Object.defineProperty(matcher, "patterns", { value: Object.freeze(patterns.map(({ pattern, exclusion, line }) => Object.freeze({ pattern, exclusion, line }))), enumerable: true });
  Object.defineProperty(matcher, "canSkipDir", {
    value: (relDir: string): boolean => {
      const dir = cleanRelPath(relDir);
      if (!isIgnored(patterns, dir)) return false;
      const prefix = `${dir}/`;
      // An exception whose fixed part leads into this directory, or whose wildcards start before
      // reaching it, might re-include something inside.
      return !patterns.some((p) => p.exclusion && (p.literalPrefix.startsWith(prefix) || prefix.startsWith(p.literalPrefix)));
    },
    enumerable: true,
  });
  return Object.freeze(matcher);
}

function readPatterns(text: string, file: string): CompiledPattern[] {
  const out: CompiledPattern[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .forEach((raw, index) => {
      const line = index + 1;
      // Comment lines are dropped before trimming, as Docker does: " #x" is a pattern.
      if (raw.startsWith("#")) return;
      let pattern = raw.trim();
      if (pattern === "") return;
      const exclusion = pattern.startsWith("!");
      if (exclusion) pattern = pattern.slice(1).trim();
      if (pattern === "") throw new DockerfileSyntaxError('illegal exclusion pattern: "!"', { file, line, column: 1, expected: "!<pattern>" });
      pattern = path.posix.normalize(pattern);
      if (pattern.length > 1 && pattern.endsWith("/")) pattern = pattern.slice(0, -1);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
      let regexp: RegExp;
      try {
        regexp = compile(pattern);
      } catch (error) {
        throw new DockerfileSyntaxError(`syntax error in pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`, { file, line, column: 1, expected: "a pattern such as *.log, **/tmp or [a-z]*" });
      }
      out.push({ pattern, exclusion, line, regexp, literalPrefix: pattern.split(/[*?[\\]/)[0] as string });
    });
  return out;
}

// `*` is anything but "/", `?` one such character, `**` any number of segments (`**/` may match
// none), `\x` the character x; other regular-expression characters are literal.
function compile(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let out = "^";
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (inClass) {
      if (ch === "\\" && i + 1 < chars.length) {
        out += `\\${chars[++i]}`;
      } else {
        out += ch === "]" ? "]" : ch === "/" ? "\\/" : ch;
        if (ch === "]") inClass = false;
      }
      continue;
    }
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        out += i + 1 >= chars.length ? ".*" : "(.*/)?";
      } else {
        out += "[^/]*";
      }
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "[") {
      inClass = true;
      out += "[";
      if (chars[i + 1] === "^" || chars[i + 1] === "!") {
        out += "^";
        i++;
      }
    } else if (ch === "\\") {
      if (i + 1 >= chars.length) throw new Error("trailing backslash");
      out += escapeRegex(chars[++i] as string);
    } else {
      out += escapeRegex(ch);
    }
  }
  if (inClass) throw new Error("unclosed [");
  return new RegExp(`${out}$`, "su");
}

function escapeRegex(ch: string): string {
  return /[.+()|{}$^\][\\*?/]/.test(ch) ? `\\${ch}` : ch;
}

// The last pattern that matches the path, or one of its parent directories, decides.
function isIgnored(patterns: readonly CompiledPattern[], relPath: string): boolean {
  if (relPath === "" || relPath === ".") return false;
  const parents: string[] = [];
  const parts = relPath.split("/");
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
  let ignored = false;
  for (const p of patterns) {
    // Only a pattern that could change the answer needs testing.
    if (p.exclusion !== ignored) continue;
    const matches = p.regexp.test(relPath) || parents.some((dir) => p.regexp.test(dir));
    if (matches) ignored = !p.exclusion;
  }
  return ignored;
}

function cleanRelPath(relPath: string): string {
  const cleaned = path.posix.normalize(relPath);
  return cleaned
    .replace(/^(\.\/)+/, "")
    .replace(/^\/+/, "")
    .replace(/\/$/, "");
}
