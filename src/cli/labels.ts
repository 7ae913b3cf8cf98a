/**
 * `--label KEY=VALUE` flags, as docker reads them: a bare KEY is an empty label.
 */
import { UsageError } from "./args.js";

/** Parses repeated `--label` values into a record; an empty key is a usage error. */
export function labelPairs(pairs: readonly string[] | undefined, usage: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === "") throw new UsageError(`--label "${pair}": expected KEY=VALUE`, usage);
    labels[key] = eq < 0 ? "" : pair.slice(eq + 1);
  }
  return labels;
}
