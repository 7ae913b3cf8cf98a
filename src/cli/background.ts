/**
 * Starting a bento process that outlives the command that started it (the stack of `compose up
 * -d`, the remover of `run --rm -d`): in a new session, with no terminal, as this same CLI.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { fileURLToPath } from "node:url";

/** This CLI's entry point: the built main.js, or main.ts under tsx (as Node was started here). */
function mainScript(): string {
  return fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "./main.ts" : "./main.js", import.meta.url));
}

/** Starts `bento <argv>` in the background with `env` added; stdin, stdout and stderr go nowhere unless `stdio` says. */
export function spawnBackgroundBento(argv: readonly string[], env: Record<string, string>, stdio: StdioOptions = "ignore"): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, mainScript(), ...argv], { detached: true, stdio, env: { ...process.env, ...env } });
}
