/**
 * Word splitting of Dockerfile arguments before expansion (BuildKit `parseWords` in
 * `frontend/dockerfile/parser/line_parsers.go`): quotes and escapes are kept in the words, only
 * unquoted whitespace separates them. ENV, LABEL and ARG use it; the printer uses it to check that a
 * template prints as one word.
 */
import { isGoSpace, type EscapeToken } from "./shell-lexer.js";

/**
 * Splits `rest` into raw words, keeping quotes and escapes (they are removed later, by expansion).
 *
 * @example
 * ```ts
 * parseWords(`a="x y" b\\ c`, "\\"); // ['a="x y"', "b\\ c"]
 * ```
 */
export function parseWords(rest: string, escape: EscapeToken): string[] {
  // Indexes, not characters: a word is always a contiguous slice of `rest` (only an escape at the
  // very end is dropped), so slicing keeps a 10 MB line linear and light on memory. The special
  // characters are all single UTF-16 units, so a surrogate pair is never split from its meaning.
  const words: string[] = [];
  const n = rest.length;
  let start = -1; // where the current word began; -1 between words
  let quote = ""; // the open quote, "" outside quotes
  let blankOK = false; // a quoted empty word ("") still counts
  const push = (end: number) => {
    if (blankOK || end > start) words.push(rest.slice(start, end));
  };
  for (let i = 0; i < n; i++) {
    const ch = rest[i] as string;
    if (start < 0) {
      if (isGoSpace(ch)) continue;
      start = i;
      blankOK = false;
    }
    if (quote === "") {
      if (isGoSpace(ch)) {
        push(i);
        start = -1;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      } else if (ch === escape) {
        // An escape at the end of the line is dropped; otherwise it and the next character stay.
        if (i + 1 === n) {
          push(i);
          return words;
        }
        i++;
      }
      continue;
    }
    if (ch === quote) quote = "";
    // The escape character works in double quotes only; nothing can be escaped in single quotes.
    else if (ch === escape && quote !== "'") {
      if (i + 1 === n) {
        push(i);
        return words;
      }
      i++;
    }
  }
  if (start >= 0) push(n);
  return words;
}

/**
 * A template rewritten so that {@link parseWords} reads it back as one word, with the same meaning
 * after expansion: unquoted whitespace gets the escape character in front of it. Templates that are
 * already one word come back unchanged.
 *
 * @example
 * ```ts
 * singleWordTemplate("hello world", "\\"); // "hello\\ world"
 * ```
 */
export function singleWordTemplate(template: string, escape: EscapeToken): string {
  const words = parseWords(template, escape);
  if (words.length === 1 && words[0] === template) return template;
  const chars = Array.from(template);
  let out = "";
  let quote = "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (quote === "") {
      if (ch === escape && i + 1 < chars.length) {
        out += ch + chars[i + 1];
        i++;
        continue;
      }
      if (ch === "'" || ch === '"') quote = ch;
      out += isGoSpace(ch) ? escape + ch : ch;
      continue;
    }
    if (ch === escape && quote === '"' && i + 1 < chars.length) {
      out += ch + chars[i + 1];
      i++;
      continue;
    }
    if (ch === quote) quote = "";
    out += ch;
  }
  return out;
}
