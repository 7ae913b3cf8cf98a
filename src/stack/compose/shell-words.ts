/**
 * Splits a compose `command:` or `entrypoint:` string into argv the way compose does (the
 * go-shellwords rules, without variable expansion): words split on blanks, single quotes literal,
 * double quotes with `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escaping the next
 * character. No shell runs: `echo $HOME` passes `$HOME` literally, as compose passes it.
 */

/**
 * The words of a command string, or an error message when a quote is not closed.
 *
 * @example
 * ```ts
 * splitShellWords(`sh -c 'echo "hi there"'`); // { words: ["sh", "-c", 'echo "hi there"'] }
 * ```
 */
export function splitShellWords(text: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) word += text[++i];
      else word += c;
      continue;
    }
    if (c === "\\") {
      if (i + 1 < text.length) {
        const n = text[++i] as string;
        if (n !== "\n") word += n;
      }
      inWord = true;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return { error: `the ${quote === "'" ? "single" : "double"} quote is not closed` };
  if (inWord) words.push(word);
  return { words };
}
