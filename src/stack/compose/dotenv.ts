/**
 * `.env` and `env_file` files as compose reads them (compose-go's dotenv parser): `KEY=value` or
 * `KEY: value`, an optional `export ` prefix, `#` comment lines, a bare `KEY` taken from the
 * environment, unquoted values cut at ` #` and trimmed, single quotes literal, double quotes with
 * `\n`-style escapes, and `$VAR` expansion in unquoted and double-quoted values.
 */
import { interpolate, InterpolationFailure, type VariableLookup } from "./interpolate.js";

/** A malformed env file line; the loader adds the file name. */
export class DotenvSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based line of the problem. */
    readonly line: number,
  ) {
    super(message);
  }
}

const keyChar = /[\p{L}\p{N}_.\-[\]]/u;
const inlineSpace = new Set(["\t", "\v", "\f", "\r", " ", "\u0085", "\u00a0"]);

const escapes: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"', $: "$$" };

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\(?:([abfnrtv$"\\])|0([0-7]{0,3}))/g, (match, c: string | undefined, octal: string | undefined) => {
    if (c !== undefined) return escapes[c] as string;
    return String.fromCharCode(parseInt(octal || "0", 8));
  });
}

/**
 * Parses env file text. `lookup` resolves bare keys and `$VAR` references that the file has not set
 * itself (the process environment, for compose). Keys that start with a digit are skipped, as
 * compose does. Throws {@link DotenvSyntaxError}.
 *
 * @example
 * ```ts
 * parseDotenv('A=1 # note\nexport B="x\\ny"\nC=\'$A\'\nD=${A}2\n', () => undefined);
 * // { A: "1", B: "x\ny", C: "$A", D: "12" }
 * ```
 */
export function parseDotenv(text: string, lookup: VariableLookup = () => undefined): Record<string, string> {
  const src = text.startsWith("\ufeff") ? text.slice(1) : text;
  const out: Record<string, string> = {};
  const resolve: VariableLookup = (name) => lookup(name) ?? (Object.hasOwn(out, name) ? out[name] : undefined);
  const expand = (value: string, line: number): string => {
    try {
      return interpolate(value, resolve);
    } catch (error) {
      if (error instanceof InterpolationFailure) throw new DotenvSyntaxError(error.message, line);
      throw error;
    }
  };
  let i = 0;
  let line = 1;
  const advance = (to: number) => {
    for (let k = i; k < to; k++) if (src[k] === "\n") line++;
    i = to;
  };
  for (;;) {
    // Skip blank space and comment lines.
    while (i < src.length && /\s/.test(src[i] as string)) advance(i + 1);
    if (i >= src.length) break;
    if (src[i] === "#") {
      const nl = src.indexOf("\n", i);
      advance(nl < 0 ? src.length : nl);
      continue;
    }
    if (/^export[ \t]+/.test(src.slice(i, i + 8))) {
      advance(i + 6);
      while (inlineSpace.has(src[i] as string)) advance(i + 1);
    }
    // The key, up to "=", ":" or the end of the line (a bare key, inherited from the environment).
    const keyStart = i;
    let terminator: string | undefined;
    while (i < src.length) {
      const c = src[i] as string;
      if (c === "=" || c === ":" || c === "\n") {
        terminator = c;
        break;
      }
      if (!inlineSpace.has(c) && !keyChar.test(c)) {
        throw new DotenvSyntaxError(`unexpected character ${JSON.stringify(c)} in variable name ${JSON.stringify(src.slice(keyStart).split("\n")[0])}; names may hold letters, digits, "_", "." and "-", then "=" and the value`, line);
      }
      i++;
    }
    const key = src.slice(keyStart, i).trim();
    if (/\s/.test(key)) throw new DotenvSyntaxError(`the key ${JSON.stringify(key)} contains a space; write KEY=value`, line);
    const skip = /^\d/.test(key);
    if (terminator !== "=" && terminator !== ":") {
      // A bare key: its value comes from the environment, if it is set there.
      const value = lookup(key);
      if (value !== undefined && !skip && key !== "") out[key] = value;
      continue;
    }
    advance(i + 1);
    while (inlineSpace.has(src[i] as string)) advance(i + 1);
    const quote = src[i];
    let value: string;
    if (quote === '"' || quote === "'") {
      const startLine = line;
      let raw = "";
      let j = i + 1;
      let closed = false;
      for (; j < src.length; j++) {
        const c = src[j] as string;
        if (c === "\\" && j + 1 < src.length) {
          const n = src[j + 1] as string;
          raw += n === quote ? n : `\\${n}`;
          j++;
          continue;
        }
        if (c === quote) {
          closed = true;
          break;
        }
        raw += c;
      }
      if (!closed) throw new DotenvSyntaxError(`unterminated quoted value ${src.slice(i).split("\n")[0]}; close it with ${quote}`, startLine);
      advance(j + 1);
      value = quote === '"' ? expand(unescapeDoubleQuoted(raw), startLine) : raw;
      // The rest of the line may only be a comment.
      const nl = src.indexOf("\n", i);
      const rest = src.slice(i, nl < 0 ? src.length : nl);
      if (rest.trim() !== "" && !rest.trim().startsWith("#")) {
        throw new DotenvSyntaxError(`unexpected text ${JSON.stringify(rest.trim())} after the quoted value of ${key}; put a comment after " #"`, line);
      }
      advance(nl < 0 ? src.length : nl);
    } else {
      const nl = src.indexOf("\n", i);
      let raw = src.slice(i, nl < 0 ? src.length : nl);
      const comment = raw.indexOf(" #");
      if (comment >= 0) raw = raw.slice(0, comment);
      value = expand(raw.replace(/\s+$/, ""), line);
      advance(nl < 0 ? src.length : nl);
    }
    if (!skip) out[key] = value;
  }
  return out;
}
