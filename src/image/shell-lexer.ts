/**
 * The Dockerfile word lexer: quote removal, escapes, `$VAR` / `${VAR:-x}` expansion and word splitting,
 * with the semantics of BuildKit's `frontend/dockerfile/shell/lex.go` (cited, not copied). It is applied
 * to ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR and ARG defaults, never to the
 * command text of RUN, CMD or ENTRYPOINT, which the container's shell reads.
 */
import { ShellExpansionError } from "./errors.js";
import { LexFailure, shellPatternToRegex, trimPrefix, trimSuffix } from "./shell-pattern.js";

/** The Dockerfile escape character: `\` by default, `` ` `` after `# escape=``. */
export type EscapeToken = "\\" | "`";

/** Variables visible to an expansion: a Map, or a plain record of strings. */
export type ShellEnv = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** How {@link expandShellWord} treats quotes, escapes and unset variables. */
export interface ShellLexOptions {
  /** The escape character. Default `\`. */
  escape?: EscapeToken;
  /** Keep quote characters in the output (BuildKit `RawQuotes`). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output (BuildKit `RawEscapes`). */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written (BuildKit `SkipUnsetEnv`). */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters (BuildKit `SkipProcessQuotes`). */
  skipProcessQuotes?: boolean;
}

/** The outcome of one expansion. */
export interface ShellWordResult {
  /** The word with quotes removed and variables expanded, spaces kept. */
  word: string;
  /** The same, split on unquoted whitespace as a shell would. */
  words: string[];
  /** Variable names that were looked up and found. */
  matched: Set<string>;
  /** Variable names that were looked up and not set. */
  unmatched: Set<string>;
}

/**
 * Expands one Dockerfile word: removes quotes, applies escapes, substitutes variables, and also
 * reports the whitespace-split words and which variables were used.
 *
 * @example
 * ```ts
 * expandShellWord('hello"${X:-a b}" $Y', { Y: "1 2" }).words; // ["helloa b", "1", "2"]
 * ```
 */
export function expandShellWord(word: string, env: ShellEnv, options: ShellLexOptions = {}): ShellWordResult {
  return new WordScanner(word, env, options).run();
}

/**
 * Expands a word to one string (BuildKit `ProcessWord`): the form ENV, LABEL, WORKDIR, USER... use.
 *
 * @example
 * ```ts
 * processWord("/app/${NAME:-web}", { NAME: "api" }); // "/app/api"
 * ```
 */
export function processWord(word: string, env: ShellEnv, options: ShellLexOptions = {}): string {
  return expandShellWord(word, env, options).word;
}

/**
 * Expands a word and splits it on unquoted whitespace (BuildKit `ProcessWords`).
 *
 * @example
 * ```ts
 * processWords('a "b c" $V', { V: "d e" }); // ["a", "b c", "d", "e"]
 * ```
 */
export function processWords(word: string, env: ShellEnv, options: ShellLexOptions = {}): string[] {
  return expandShellWord(word, env, options).words;
}

// Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property. JS `\s` differs (it
// has U+FEFF and lacks U+0085), so the set is spelled out.
const spaces = new Set(["\t", "\n", "\v", "\f", "\r", " ", "\u0085", "\u00A0", "\u1680", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000"]);
const letterRe = /^\p{L}$/u;
const digitRe = /^\p{Nd}$/u;

/**
 * Go's `unicode.IsSpace` for one code point.
 *
 * @example
 * ```ts
 * isGoSpace("\u00a0"); // true
 * ```
 */
export function isGoSpace(ch: string): boolean {
  if (spaces.has(ch)) return true;
  const code = ch.charCodeAt(0);
  return code >= 0x2000 && code <= 0x200a && ch.length === 1;
}

// POSIX special parameters ($@ $* $# $? $- $$ $! $0): never set in a Dockerfile.
const specialParams = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

class WordSplitter {
  word = "";
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  addRawString(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

class WordScanner {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  private readonly escape: string;
  private readonly matched = new Set<string>();
  private readonly unmatched = new Set<string>();

  constructor(
    private readonly source: string,
    private readonly env: ShellEnv,
    private readonly options: ShellLexOptions,
  ) {
    // Code points, as Go's text/scanner reads runes.
    this.chars = Array.from(source);
    this.rawEscapes = options.rawEscapes ?? false;
    this.escape = options.escape ?? "\\";
  }

  run(): ShellWordResult {
    try {
      const { text, words } = this.processStopOn(undefined, this.rawEscapes);
      return { word: text, words, matched: this.matched, unmatched: this.unmatched };
    } catch (error) {
      if (error instanceof LexFailure) throw new ShellExpansionError(this.source, error.message);
      throw error;
    }
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  private processStopOn(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scanUntil(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scanUntil(stop: string | undefined): { text: string; words: string[] } {
    let text = "";
    const words = new WordSplitter();
    const quotes = !this.options.skipProcessQuotes;
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return { text, words: words.finish() };
      }
      if (ch === "$") {
        const value = this.processDollar();
        text += value;
        words.addString(value);
      } else if (quotes && (ch === "'" || ch === '"')) {
        const value = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        text += value;
        words.addRawString(value);
      } else {
        let c = this.next() as string;
        if (c === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            text += c;
          }
          const escaped = this.next();
          // An escape at the very end of the word is dropped.
          if (escaped === undefined) break;
          c = escaped;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        text += c;
      }
    }
    if (stop !== undefined) throw new LexFailure(`unexpected end of statement while looking for matching ${stop}`);
    return { text, words: words.finish() };
  }

  // Single quotes keep everything literally; a single quote cannot be escaped inside them (sh(1)).
  private processSingleQuote(): string {
    let text = "";
    const open = this.next() as string;
    if (this.options.rawQuotes) text += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexFailure("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") {
        if (this.options.rawQuotes) text += ch;
        return text;
      }
      text += ch;
    }
  }

  // Double quotes expand `$` and let the escape character quote only `"`, `$` and itself (sh(1)).
  private processDoubleQuote(): string {
    let text = "";
    const open = this.next() as string;
    if (this.options.rawQuotes) text += open;
    for (;;) {
      const peeked = this.peek();
      if (peeked === undefined) throw new LexFailure("unexpected end of statement while looking for matching double-quote");
      if (peeked === '"') {
        this.next();
        if (this.options.rawQuotes) text += peeked;
        return text;
      }
      if (peeked === "$") {
        text += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.escape) {
        if (this.rawEscapes) text += ch;
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === "$" || after === this.escape) ch = this.next() as string;
      }
      text += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const found = this.lookup(name);
      if (found === undefined && this.options.skipUnsetEnv) return "$" + name;
      return found ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexFailure("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw new LexFailure("syntax error: bad substitution");
    const name = this.processName();
    let op = this.next();
    // BuildKit reports "unsupported modifier" here; the cause is clearer.
    if (op === undefined) throw new LexFailure("syntax error: missing '}'");
    let opText = op;
    let nullIsUnset = false;
    if (op === "}") {
      const found = this.lookup(name);
      if (found === undefined && this.options.skipUnsetEnv) return `\${${name}}`;
      return found ?? "";
    }
    if (op === ":") {
      nullIsUnset = true;
      op = this.next();
      if (op === undefined) throw new LexFailure("syntax error: missing '}'");
      opText += op;
    } else if (op === "/") {
      return this.processReplace(name);
    } else if (op !== "+" && op !== "-" && op !== "?" && op !== "#" && op !== "%") {
      throw new LexFailure(`unsupported modifier (${opText}) in substitution`);
    }
    const word = this.argumentUntilBrace(op === "#" || op === "%");
    const value = this.lookup(name);
    if (value === undefined && this.options.skipUnsetEnv) return `\${${name}${opText}${word}}`;
    const unsetOrNull = value === undefined || (nullIsUnset && value === "");
    switch (op) {
      case "-":
        return unsetOrNull ? word : (value as string);
      case "+":
        return unsetOrNull ? "" : word;
      case "?":
        if (value === undefined) throw new LexFailure(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
        if (nullIsUnset && value === "") throw new LexFailure(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
        return value;
      case "#":
      case "%": {
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === "%" ? trimSuffix(pattern, value ?? "", greedy) : trimPrefix(pattern, value ?? "", greedy);
      }
      default:
        throw new LexFailure(`unsupported modifier (${opText}) in substitution`);
    }
  }

  private argumentUntilBrace(rawEscapes: boolean): string {
    try {
      return this.processStopOn("}", rawEscapes).text;
    } catch (error) {
      if (error instanceof LexFailure && this.peek() === undefined) throw new LexFailure("syntax error: missing '}'");
      throw error;
    }
  }

  private processReplace(name: string): string {
    const replaceAll = this.peek() === "/";
    if (replaceAll) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn("/", true).text;
    } catch (error) {
      if (error instanceof LexFailure && this.peek() === undefined) throw new LexFailure("syntax error: missing '/' in ${}");
      throw error;
    }
    const replacement = this.argumentUntilBrace(true);
    const value = this.lookup(name);
    if (value === undefined && this.options.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegex(pattern, true, false, replaceAll);
    // A function replacer keeps `$&` and friends literal.
    return (value ?? "").replace(re, () => replacement);
  }

  private processName(): string {
    let name = "";
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === "" && digitRe.test(ch)) {
        // Positional parameters ($1, $10): read every digit; they are never set.
        while (this.peek() !== undefined && digitRe.test(this.peek() as string)) name += this.next();
        return name;
      }
      if (name === "" && specialParams.has(ch)) return this.next() as string;
      if (!letterRe.test(ch) && !digitRe.test(ch) && ch !== "_") break;
      name += this.next();
    }
    return name;
  }

  private lookup(name: string): string | undefined {
    const env = this.env;
    const value = isMap(env) ? env.get(name) : Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }
}

function isMap(env: ShellEnv): env is ReadonlyMap<string, string> {
  return env instanceof Map;
}
