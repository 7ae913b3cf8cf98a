/**
 * `bento compose up -d`: the stack runs in a background `bento compose up` process, its keeper,
 * which holds the stack's networks, supervises restart policies and starts every container
 * detached, so that other processes reach them (`bento compose exec`, `logs`, `ps`). The command
 * the user ran relays the keeper's progress and returns once every service is up; `bento compose
 * down` asks the keeper to stop (SIGTERM), which takes the stack down.
 */
import { closeSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { spawnBackgroundBento } from "./background.js";
import { describeError, type CliIo } from "./command.js";

/** Set in the keeper's environment: it runs the stack instead of starting another keeper. */
const keeperEnv = "BENTO_COMPOSE_KEEPER";
/** The keeper's file descriptor to the command that started it: progress lines, then "ready" or "failed". */
const reportFd = 3;

/** The events `Stack.up()` reports, as the keeper relays them. */
interface StackEventShape {
  service: string;
  status: string;
  detail?: string;
}

/** What the keeper needs of `Stack.up()`'s result. */
interface KeptStack {
  down(): Promise<void>;
}

/** Starts the stack, detached, reporting each step. */
export type StartStack = (options: { detach: true; onProgress: (event: StackEventShape) => void }) => Promise<KeptStack>;

/** True in the keeper process. */
export function isComposeKeeper(): boolean {
  return process.env[keeperEnv] === "1";
}

function progressLine(e: StackEventShape): string {
  return `${e.service}: ${e.status}${e.detail ? ` (${e.detail})` : ""}`;
}

/**
 * Starts `bento <argv>` (a `compose ... up -d`) as the stack's keeper in a new session, prints
 * its progress on stderr, and resolves to 0 once its services are up, or to 1 when they could
 * not start (the keeper has then removed what it made, and ended).
 */
export async function startComposeKeeper(argv: readonly string[], io: CliIo): Promise<number> {
  const keeper = spawnBackgroundBento(argv, { [keeperEnv]: "1" }, ["ignore", "ignore", "ignore", "pipe"]);
  const exited = new Promise<number | null>((resolve) => keeper.once("exit", (code) => resolve(code)));
  const spawnFailed = new Promise<never>((_, reject) => keeper.once("error", reject));
  let failure = "the stack's background process ended before its services started";
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
 * The keeper's life: starts the stack detached, reports "ready", then holds it (its networks,
 * its restart policies) until SIGTERM, SIGINT or SIGHUP, and takes it down. Resolves to the
 * keeper's exit code.
 */
export async function keepStack(start: StartStack): Promise<number> {
  let running: KeptStack;
  try {
    running = await start({ detach: true, onProgress: (e) => report(`progress ${progressLine(e)}`) });
  } catch (error) {
    report(`failed ${JSON.stringify(describeError(error, false))}`);
    return 1;
  }
  // Listening replaces Node's default (dying of the signal): the stack comes down first.
  const stop = new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(signal, () => resolve());
  });
  // Nothing else may keep this process alive while it waits (its helpers' handles are unref'd).
  const alive = setInterval(() => undefined, 1 << 30);
  report("ready");
  closeSync(reportFd);
  await stop;
  clearInterval(alive);
  await running.down();
  return 0;
}
