/**
 * Per-instruction argument parsers of a logical Dockerfile line, with BuildKit's rules
 * (`frontend/dockerfile/parser/line_parsers.go` and `split_command.go`, cited, not copied): the
 * keyword and `--flags` are split off, then each instruction reads its arguments its own way.
 */
import type { DockerfileNode } from "./dockerfile-ast.js";
import { parseWords } from "./dockerfile-words.js";
import { isGoSpace, type EscapeToken } from "./shell-lexer.js";

/**
 * A problem in one line; the parser turns it into a `DockerfileSyntaxError` with the file, line and column.
 *
 * @example
 * ```ts
 * throw new LineSyntaxError("ENV must have two arguments", "ENV name=value");
 * ```
 */
export class LineSyntaxError extends Error {
  constructor(
    message: string,
    readonly expected?: string,
    /** Text to look for in the line to place the column. */
    readonly near?: string,
  ) {
    super(message);
  }
}

/** The arguments of one instruction as its line parser read them. */
export interface ParsedArgs {
  args: (string | DockerfileNode)[];
  json: boolean;
}

/** Parses a nested instruction line (ONBUILD's trigger). */
export type SubCommandParser = (line: string) => DockerfileNode;

type LineParser = (rest: string, escape: EscapeToken, sub: SubCommandParser) => ParsedArgs;

// Go's `[\t\v\f\r ]+`: ASCII whitespace except newline.
const whitespaceRun = /[\t\v\f\r ]+/;

/**
 * Splits a logical line into keyword, flags and the rest (BuildKit `splitCommand`).
 *
 * @example
 * ```ts
 * splitCommand("COPY --from=build /a /b"); // { keyword: "COPY", flags: ["--from=build"], rest: "/a /b" }
 * ```
 */
export function splitCommand(line: string): { keyword: string; flags: string[]; rest: string } {
  const trimmed = goTrimSpace(line);
  const match = whitespaceRun.exec(trimmed);
  const keyword = match === null ? trimmed : trimmed.slice(0, match.index);
  if (match === null) return { keyword, flags: [], rest: "" };
  const { rest, flags } = extractBuilderFlags(trimmed.slice(match.index + match[0].length));
  return { keyword, flags, rest: goTrimSpace(rest) };
}

/**
 * Reads leading `--flag[=value]` words; quotes are removed and `\` escapes the next character.
 * A lone `--` ends the flags.
 *
 * @example
 * ```ts
 * extractBuilderFlags('--chown="a b" -- --not-a-flag'); // { flags: ["--chown=a b"], rest: "--not-a-flag" }
 * ```
 */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  const n = line.length;
  let inWord = false;
  let quote = ""; // the open quote, "" outside quotes
  let blankOK = false; // a quoted empty flag ("") still counts
  // A flag is built from runs of kept characters (quotes and escapes are left out), appended a
  // run at a time: character by character, a 10 MB flag took seconds.
  let word = "";
  let run = -1;
  const flush = (end: number) => {
    if (run >= 0) word += line.slice(run, end);
    run = -1;
  };
  const keep = (pos: number) => {
    if (run < 0) run = pos;
  };
  for (let pos = 0; pos < n; pos++) {
    const ch = line[pos] as string;
    if (!inWord) {
      if (isGoSpace(ch)) continue;
      // Only words that start with "--" are flags; the first other word starts the arguments.
      if (ch !== "-" || line[pos + 1] !== "-") return { rest: line.slice(pos), flags };
      inWord = true;
      word = "";
      blankOK = false;
    }
    if (quote === "") {
      if (isGoSpace(ch)) {
        flush(pos);
        inWord = false;
        if (word === "--") return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
      } else if (ch === "'" || ch === '"') {
        flush(pos);
        quote = ch;
        blankOK = true;
      } else if (ch === "\\") {
        flush(pos);
        if (pos + 1 < n) keep(++pos);
      } else {
        keep(pos);
      }
      continue;
    }
    if (ch === quote) {
      flush(pos);
      quote = "";
    } else if (ch === "\\") {
      flush(pos);
      if (pos + 1 < n) keep(++pos);
    } else {
      keep(pos);
    }
  }
  if (inWord) {
    flush(n);
    if (word !== "--" && (blankOK || word.length > 0)) flags.push(word);
  }
  return { rest: "", flags };
}

/**
 * Go's `strings.TrimSpace` (Unicode white space).
 *
 * @example
 * ```ts
 * goTrimSpace("\t a \u00a0"); // "a"
 * ```
 */
export function goTrimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isGoSpace(text[start] as string)) start++;
  while (end > start && isGoSpace(text[end - 1] as string)) end--;
  return text.slice(start, end);
}

const none: ParsedArgs = Object.freeze({ args: [], json: false }) as ParsedArgs;

// JSON form: the rest must be exactly one JSON array (Go's json.Unmarshal), of strings only.
// `undefined` means "not a JSON array": the caller falls back to the shell form.
function parseJson(rest: string): ParsedArgs | undefined {
  let start = 0;
  while (start < rest.length && isGoSpace(rest[start] as string)) start++;
  if (rest[start] !== "[") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(rest.slice(start));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === "string")) {
    throw new LineSyntaxError("when using JSON array syntax, arrays must be comprised of strings only", "a JSON array of strings, or the shell form", "[");
  }
  return { args: value as string[], json: true };
}

// Invalid JSON is not an error: the line is the shell form.
function parseMaybeJson(rest: string): ParsedArgs {
  if (rest === "") return none;
  return parseJson(rest) ?? { args: [rest], json: false };
}

function parseMaybeJsonToList(rest: string): ParsedArgs {
  return parseJson(rest) ?? parseWhitespaceDelimited(rest);
}

function parseWhitespaceDelimited(rest: string): ParsedArgs {
  if (rest === "") return none;
  return { args: rest.split(whitespaceRun), json: false };
}

function parseString(rest: string): ParsedArgs {
  return rest === "" ? none : { args: [rest], json: false };
}

// ENV and LABEL: `key value` (legacy: the whole rest is the value) or `k=v k2=v2`; each pair gives
// key, raw value and the separator ("=" or "" for legacy), as BuildKit's dump shows.
function parseNameVal(instruction: string) {
  return (rest: string, escape: EscapeToken): ParsedArgs => {
    const words = parseWords(rest, escape);
    if (words.length === 0) return none;
    if (!(words[0] as string).includes("=")) {
      const match = whitespaceRun.exec(rest);
      if (match === null) throw new LineSyntaxError(`${instruction} must have two arguments`, `${instruction} name=value (or ${instruction} name value)`);
      return { args: [rest.slice(0, match.index), rest.slice(match.index + match[0].length), ""], json: false };
    }
    const args: string[] = [];
    for (const word of words) {
      const eq = word.indexOf("=");
      if (eq < 0) throw new LineSyntaxError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`, "name=value", word);
      args.push(word.slice(0, eq), word.slice(eq + 1), "=");
    }
    return { args, json: false };
  };
}

function parseNameOrNameVal(rest: string, escape: EscapeToken): ParsedArgs {
  const words = parseWords(rest, escape);
  return words.length === 0 ? none : { args: words, json: false };
}

function parseSubCommand(rest: string, _escape: EscapeToken, sub: SubCommandParser): ParsedArgs {
  return rest === "" ? none : { args: [sub(rest)], json: false };
}

// HEALTHCHECK: a type word (CMD, NONE, ...), then the command as for CMD.
function parseHealthConfig(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest[sep] as string)) sep++;
  if (sep === 0) return none;
  let next = sep;
  while (next < rest.length && isGoSpace(rest[next] as string)) next++;
  const command = parseMaybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
}

const lineParsers: Record<string, LineParser> = {
  add: parseMaybeJsonToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJson,
  copy: parseMaybeJsonToList,
  entrypoint: parseMaybeJson,
  env: parseNameVal("ENV"),
  expose: parseWhitespaceDelimited,
  from: parseWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: parseNameVal("LABEL"),
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJson,
  shell: parseMaybeJson,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJsonToList,
  workdir: parseString,
};

/**
 * Whether BuildKit knows the keyword (lower case).
 *
 * @example
 * ```ts
 * isKnownInstruction("run"); // true
 * ```
 */
export function isKnownInstruction(keyword: string): boolean {
  return Object.hasOwn(lineParsers, keyword);
}

/**
 * The known instruction keywords, lower case.
 *
 * @example
 * ```ts
 * knownInstructions().includes("healthcheck"); // true
 * ```
 */
export function knownInstructions(): string[] {
  return Object.keys(lineParsers);
}

/**
 * Parses the arguments of one instruction. Unknown keywords give one empty argument, as BuildKit's
 * `parseIgnore` does; the instruction layer rejects them.
 *
 * @example
 * ```ts
 * parseInstructionArgs("env", "a=1 b=2", "\\", sub); // { args: ["a", "1", "=", "b", "2", "="], json: false }
 * ```
 */
export function parseInstructionArgs(keyword: string, rest: string, escape: EscapeToken, sub: SubCommandParser): ParsedArgs {
  const parser = lineParsers[keyword];
  return parser === undefined ? { args: [""], json: false } : parser(rest, escape, sub);
}
