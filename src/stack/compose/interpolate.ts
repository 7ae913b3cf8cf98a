/**
 * Compose's variable interpolation (compose-spec "Interpolation"): `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+replacement}`, `${VAR+replacement}`,
 * nested expressions in the default, message and replacement, and `$$` for a literal `$`. Any other
 * `$` is an error, as in compose ("You may need to escape any $ with another $").
 */

/** Looks a variable up: its value, or `undefined` when it is not set. */
export type VariableLookup = (name: string) => string | undefined;

/** Why interpolation failed; the loader turns it into a ComposeError with the value's path. */
export class InterpolationFailure extends Error {
  constructor(
    message: string,
    /** "syntax" for a malformed expression, "required" for a missing `${VAR:?}` variable. */
    readonly kind: "syntax" | "required",
  ) {
    super(message);
  }
}

const nameStart = /[_a-zA-Z]/;
const nameChar = /[_a-zA-Z0-9]/;

/** The index of the `}` that closes the `${` at `open`, counting nested `${`; -1 when unclosed. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text.startsWith("${", i)) {
      depth++;
      i++;
    } else if (text[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

const operators = [":-", ":?", ":+", "-", "?", "+"] as const;

/**
 * Interpolates one string. `unset` is called for each variable used without a value and without a
 * default (compose then warns and uses ""). Throws {@link InterpolationFailure}.
 *
 * @example
 * ```ts
 * interpolate("${TAG:-latest} costs $$5", (n) => undefined); // "latest costs $5"
 * ```
 */
export function interpolate(text: string, lookup: VariableLookup, unset: (name: string) => void = () => undefined): string {
  if (!text.includes("$")) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next !== undefined && nameStart.test(next)) {
      let end = dollar + 2;
      while (end < text.length && nameChar.test(text[end] as string)) end++;
      const name = text.slice(dollar + 1, end);
      const value = lookup(name);
      if (value === undefined) unset(name);
      out += value ?? "";
      i = end;
    } else if (next === "{") {
      const close = closingBrace(text, dollar);
      if (close < 0) throw new InterpolationFailure(`invalid interpolation format in ${JSON.stringify(text)}: "\${" is not closed by "}"; you may need to escape any $ with another $`, "syntax");
      out += braced(text.slice(dollar + 2, close), text, lookup, unset);
      i = close + 1;
    } else {
      throw new InterpolationFailure(`invalid interpolation format in ${JSON.stringify(text)}: "$" must start $VAR, \${VAR...} or $$; you may need to escape any $ with another $`, "syntax");
    }
  }
  return out;
}

function braced(inner: string, whole: string, lookup: VariableLookup, unset: (name: string) => void): string {
  let end = 0;
  if (inner.length > 0 && nameStart.test(inner[0] as string)) {
    end = 1;
    while (end < inner.length && nameChar.test(inner[end] as string)) end++;
  }
  const name = inner.slice(0, end);
  const rest = inner.slice(end);
  const op = operators.find((o) => rest.startsWith(o));
  if (name === "" || (rest !== "" && op === undefined)) {
    throw new InterpolationFailure(
      `invalid interpolation format in ${JSON.stringify(whole)}: "\${${inner}}" is not \${VAR}, \${VAR:-default}, \${VAR-default}, \${VAR:?error}, \${VAR?error}, \${VAR:+alt} or \${VAR+alt}; you may need to escape any $ with another $`,
      "syntax",
    );
  }
  const value = lookup(name);
  if (op === undefined) {
    if (value === undefined) unset(name);
    return value ?? "";
  }
  const operand = () => interpolate(rest.slice(op.length), lookup, unset);
  const empty = value === undefined || (op.startsWith(":") && value === "");
  switch (op) {
    case ":-":
    case "-":
      return empty ? operand() : (value as string);
    case ":?":
    case "?": {
      if (!empty) return value as string;
      const message = operand();
      throw new InterpolationFailure(`required variable ${name} is missing a value${message === "" ? "" : `: ${message}`}; set it in the environment or the .env file`, "required");
    }
    case ":+":
    case "+":
      return empty ? "" : operand();
  }
}

/** Where a value is in a document: keys and list indexes. */
export type ValuePath = readonly (string | number)[];

/**
 * Interpolates every string value of a parsed document (keys are left alone, as compose does).
 * `unset` receives each variable used without a value, with the path of the value; a failure is
 * rethrown by `fail` with the path of the value that holds it.
 *
 * @example
 * ```ts
 * interpolateDocument({ services: { web: { image: "nginx:${TAG:-1}" } } }, () => undefined);
 * // { services: { web: { image: "nginx:1" } } }
 * ```
 */
export function interpolateDocument(
  document: unknown,
  lookup: VariableLookup,
  unset: (name: string, path: ValuePath) => void = () => undefined,
  fail: (path: ValuePath, failure: InterpolationFailure) => never = (_, failure) => {
    throw failure;
  },
): unknown {
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === "string") {
      try {
        return interpolate(value, lookup, (name) => unset(name, path));
      } catch (error) {
        if (error instanceof InterpolationFailure) return fail(path, error);
        throw error;
      }
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return value;
  };
  return walk(document, []);
}
