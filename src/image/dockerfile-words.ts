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
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = "";
  let phase: "spaces" | "word" | "quote" = "spaces";
  let quote = "";
  let blankOK = false;
  for (let i = 0; i <= chars.length; i++) {
    const atEnd = i === chars.length;
    let ch = chars[i] ?? "";
    if (phase === "spaces") {
      if (atEnd) break;
      if (isGoSpace(ch)) continue;
      phase = "word";
    }
    if (atEnd) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isGoSpace(ch)) {
        phase = "spaces";
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        // An escape at the end of the line is dropped; otherwise it and the next character stay.
        if (i + 1 === chars.length) continue;
        word += ch;
        i++;
        ch = chars[i] as string;
      }
      word += ch;
      continue;
    }
    // In quotes.
    if (ch === quote) phase = "word";
    // The escape character works in double quotes only; nothing can be escaped in single quotes.
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        phase = "word";
        continue;
      }
      word += ch;
      i++;
      ch = chars[i] as string;
    }
    word += ch;
  }
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
