/**
 * Benchmarks other engineers keep in bench/ (dockerfile-parse.ts, store*.ts): when such a file
 * exports functions named bench<Something> (e.g. benchDockerfileParse), each is called with no
 * arguments and whatever it returns is reported. Their failures are reported, never thrown.
 * A file without such an export is a standalone script (it runs on import), so it is left alone.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** One call of another file's bench function. */
export interface ExtraResult {
  file: string;
  name: string;
  result?: unknown;
  error?: string;
}

const ownedByOthers = /^(import-cost|dockerfile-parse|store[\w.-]*|proxy|cgroup-tuning|build-[\w.-]*|databases)\.ts$/;
const benchExport = /^export\s+(async\s+)?function\s+bench[A-Z]|^export\s+const\s+bench[A-Z]/m;

/** Runs every bench function of the other engineers' files that exist. */
export async function runExtras(): Promise<ExtraResult[]> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const results: ExtraResult[] = [];
  const files = readdirSync(dir).filter((f) => ownedByOthers.test(f) && benchExport.test(readFileSync(`${dir}/${f}`, "utf8")));
  for (const file of files.sort()) {
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(`${dir}/${file}`).href)) as Record<string, unknown>;
    } catch (error) {
      results.push({ file, name: "(import)", error: (error as Error).message });
      continue;
    }
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== "function" || !/^bench[A-Z]/.test(name)) continue;
      try {
        results.push({ file, name, result: await (value as () => unknown)() });
      } catch (error) {
        results.push({ file, name, error: (error as Error).message });
      }
    }
  }
  return results;
}
