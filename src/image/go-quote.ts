/**
 * Go's `strconv.Quote`, which BuildKit's AST dump uses: the conformance corpus's `result` files are
 * written with it.
 */

const named: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * Quotes a string as Go's `strconv.Quote` does: double quotes, `\n`-style escapes, `\xNN` for other
 * control bytes, `\uNNNN` for other unprintable characters; printable non-ASCII is kept.
 *
 * @example
 * ```ts
 * goQuote('a "b"\n♥'); // '"a \\"b\\"\\n♥"'
 * ```
 */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    const escape = named[code];
    if (escape !== undefined) out += escape;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code < 0x7f || printable.test(ch)) out += ch;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return out + '"';
}
