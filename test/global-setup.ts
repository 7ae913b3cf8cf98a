/**
 * vitest's globalSetup (vitest.config.ts): builds the package's bundle once per run, as `npm run
 * build` makes dist/, so the CLI tests run bento's CLI as users do, from dist/cli/main.js. Running
 * src/cli/main.ts under tsx instead costs about 0.7 s more per process (tsx's loader compiles and
 * links some 150 modules), and the CLI tests start over a thousand of them.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

const repo = join(import.meta.dirname, "..");
// Under the checkout, so that the bundle finds the package's addon and bento-shim as dist/ does
// (src/native/load.ts walks up to package.json and binding.gyp).
const scratch = join(repo, ".scratch");
const prefix = "test-cli-";

declare module "vitest" {
  export interface ProvidedContext {
    /** The bundled CLI: `node <bentoCli> ARGS...` runs `bento ARGS...`. */
    bentoCli: string;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function setup(project: TestProject): Promise<() => void> {
  // A directory per run, so concurrent runs on one checkout do not overwrite each other's; those
  // of runs that were killed before their teardown go here.
  if (existsSync(scratch)) {
    for (const entry of readdirSync(scratch)) {
      if (entry.startsWith(prefix) && !alive(Number(entry.slice(prefix.length)))) rmSync(join(scratch, entry), { recursive: true, force: true });
    }
  }
  const outdir = join(scratch, `${prefix}${process.pid}`);
  mkdirSync(outdir, { recursive: true });
  // The package's own build (dist/'s, without the declarations), so the tests run what ships.
  await promisify(execFile)(process.execPath, [join(repo, "scripts/build-dist.mjs"), "--outdir", outdir, "--no-types"]);
  project.provide("bentoCli", join(outdir, "cli/main.js"));
  return () => rmSync(outdir, { recursive: true, force: true });
}
