/**
 * Shell wildcard patterns for the `${VAR#pattern}`, `${VAR%pattern}` and `${VAR/pattern/text}`
 * expansions of the Dockerfile word lexer (shell-lexer.ts), as BuildKit's `shell/lex.go` reads them.
 */

/** Thrown inside the lexer and these patterns; turned into a `ShellExpansionError` (errors.ts) naming the whole word. */
export class LexFailure extends Error {}

const regexSpecials = new Set(["[", "]", "{", "}", ".", "+", "(", ")", "|", "^", "$"]);

// A shell wildcard pattern (`*`, `?`, `\` escapes; no bracket expressions) as a RegExp, as POSIX
// "Pattern Matching Notation" describes it.
export function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") {
      out += greedy ? ".*" : ".*?";
    } else if (ch === "?") {
      out += ".";
    } else if (ch === "\\") {
      // `\}` and `\/` only protect the ${} syntax; the backslash is not part of the pattern.
      const after = chars[i + 1];
      if (after === "}" || after === "/") continue;
      if (after !== "*" && after !== "?" && after !== "\\") throw new LexFailure(`invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ""}'`);
      out += "\\" + after;
      i++;
    } else {
      out += regexSpecials.has(ch) ? "\\" + ch : ch;
    }
  }
  return new RegExp(out, global ? "gu" : "u");
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = shellPatternToRegex(pattern, greedy, true).exec(value);
  return match === null ? value : value.slice(match[0].length);
}

// Regular expressions find the leftmost match, so the shortest *suffix* is found by reversing both
// the value and the pattern (keeping each `\x` escape pair in order).
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

function reverse(text: string): string {
  return Array.from(text).reverse().join("");
}

function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === "\\" && i !== chars.length - 1) {
      out.unshift("\\" + chars[i + 1]);
      i += 2;
    } else {
      out.unshift(chars[i] as string);
      i++;
    }
  }
  return out.join("");
}
