/**
 * Keepers: background bento processes that hold what must outlive the command the user ran, so
 * that other processes reach it. `bento compose up -d` starts one that holds the stack (its
 * networks, its restart policies, its detached containers); `bento network create` one that
 * holds a named network. The command the user ran relays the keeper's progress and returns
 * once it is ready; the keeper holds on until it is asked to stop (SIGTERM), then lets go.
 */
import { closeSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { spawnBackgroundBento } from "./background.js";
import { describeError, type CliIo } from "./command.js";

/** Set in a keeper's environment: it holds what it was started for instead of starting another keeper. */
const keeperEnv = "BENTO_KEEPER";
/** The keeper's file descriptor to the command that started it: progress lines, then "ready" or "failed". */
const reportFd = 3;

/** What a keeper holds until it is asked to stop. */
export interface Kept {
  /** Lets go of it (takes the stack down, removes the network). */
  release(): Promise<void>;
}

/** True in a keeper process. */
export function isKeeper(): boolean {
  return process.env[keeperEnv] === "1";
}

/**
 * Starts `bento <argv>` as a keeper in a new session, prints its progress on stderr, and
 * resolves to 0 once it is ready, or to 1 when it failed (it has then removed what it made, and
 * ended). `what` names what it holds, for the message when it ends with no reason given.
 */
export async function startKeeper(argv: readonly string[], what: string, io: CliIo): Promise<number> {
  const keeper = spawnBackgroundBento(argv, { [keeperEnv]: "1" }, ["ignore", "ignore", "ignore", "pipe"]);
  const exited = new Promise<number | null>((resolve) => keeper.once("exit", (code) => resolve(code)));
  const spawnFailed = new Promise<never>((_, reject) => keeper.once("error", reject));
  let failure = `the background process of ${what} ended before it was ready`;
  const lines = createInterface({ input: keeper.stdio[reportFd] as Readable });
  const relay = (async () => {
    for await (const line of lines) {
      if (line === "ready") return true;
      if (line.startsWith("progress ")) io.stderr.write(`${line.slice("progress ".length)}\n`);
      if (line.startsWith("failed ")) failure = JSON.parse(line.slice("failed ".length)) as string;
    }
    return false;
  })();
  const ready = await Promise.race([relay, spawnFailed]);
  lines.close();
  (keeper.stdio[reportFd] as Readable).destroy();
  if (ready) {
    keeper.unref();
    return 0;
  }
  // It cleaned up and ends: wait, so that nothing of it remains when this command returns.
  await exited;
  io.stderr.write(failure.startsWith("bento: ") ? failure : `bento: ${failure}\n`);
  return 1;
}

function report(line: string): void {
  try {
    writeSync(reportFd, `${line}\n`);
  } catch {
    // The command that started the keeper is gone: nobody reads the progress any more.
  }
}

/**
 * The keeper's life: `start` makes what it holds (reporting progress lines), then the keeper
 * reports "ready" and holds it until SIGTERM, SIGINT or SIGHUP, and releases it. Resolves to
 * the keeper's exit code.
 */
export async function keep(start: (progress: (line: string) => void) => Promise<Kept>): Promise<number> {
  let kept: Kept;
  try {
    kept = await start((line) => report(`progress ${line}`));
  } catch (error) {
    report(`failed ${JSON.stringify(describeError(error, false))}`);
    return 1;
  }
  // Listening replaces Node's default (dying of the signal): what it holds is released first.
  const stop = new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(signal, () => resolve());
  });
  // Nothing else may keep this process alive while it waits (its helpers' handles are unref'd).
  const alive = setInterval(() => undefined, 1 << 30);
  report("ready");
  closeSync(reportFd);
  await stop;
  clearInterval(alive);
  await kept.release();
  return 0;
}
