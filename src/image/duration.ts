/**
 * Go duration strings (`30s`, `1m30s`, `500ms`), the form HEALTHCHECK flags take, in milliseconds.
 */

// Nanoseconds per unit: integers, so that sums stay exact before the one division into ms.
const nanosPerUnit: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3,
  "\u03bcs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 6e10,
  h: 3.6e12,
};

/**
 * Parses a Go duration (Go's `time.ParseDuration`) into milliseconds; `undefined` when invalid.
 *
 * @example
 * ```ts
 * parseGoDurationMs("1m30s"); // 90000
 * parseGoDurationMs("5"); // undefined: a unit is required, except for "0"
 * ```
 */
export function parseGoDurationMs(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  // The micro signs as escapes (U+00B5 and U+03BC, both of which Go accepts): one character
  // outside ASCII in a bundled chunk makes V8 hold and scan the whole chunk as two-byte text.
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;
  while (rest !== "") {
    const match = part.exec(rest);
    if (match === null) return undefined;
    total += Number(match[1]) * (nanosPerUnit[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  return (sign * total) / 1e6;
}

/**
 * Formats milliseconds as a Go duration that {@link parseGoDurationMs} reads back to the same value.
 *
 * @example
 * ```ts
 * formatGoDurationMs(90000); // "1m30s"
 * formatGoDurationMs(250); // "250ms"
 * ```
 */
export function formatGoDurationMs(ms: number): string {
  if (ms === 0) return "0s";
  if (!Number.isInteger(ms)) return `${Math.round(ms * 1e6)}ns`;
  if (ms % 1000 !== 0) return `${ms}ms`;
  let seconds = ms / 1000;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours ? `${hours}h` : ""}${minutes ? `${minutes}m` : ""}${seconds || (!hours && !minutes) ? `${seconds}s` : ""}`;
}
