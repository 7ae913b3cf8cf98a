/**
 * Where the third-party conformance corpora are: `BENTO_CORPORA` (default `../shared/corpora`,
 * beside the repository). They are not ours to copy into the repository, so they are read in
 * place; a missing corpus fails the file that needs it (never a skip), with the fix.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The corpora folder, as `npm run test:conformance` sees it. */
export const corporaRoot = path.resolve(repoRoot, process.env.BENTO_CORPORA ?? "../shared/corpora");

/**
 * The folder of one corpus (`dockerfile-parser`, `dockerfile-shell`, `compose`, `oci`); throws,
 * naming the path and the fix, when it is not there.
 */
export function corpusDir(name: string): string {
  const dir = path.join(corporaRoot, name);
  if (!existsSync(path.join(dir, "README.md"))) {
    throw new Error(`conformance corpus "${name}" not found at ${dir}: set BENTO_CORPORA to the folder that holds ` + `dockerfile-parser/, dockerfile-shell/, compose/ and oci/ (default ../shared/corpora beside the repository)`);
  }
  return dir;
}
