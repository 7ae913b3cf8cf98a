/**
 * What the commands that act on detached containers by name share (`stop`, `start`, `restart`,
 * `kill`): each named container in turn, and docker's `-t SECONDS`.
 */
import { Container } from "../container/container.js";
import { UsageError } from "./args.js";
import { reportError, type CliIo } from "./command.js";

/**
 * Runs `act` on each container named in `refs`; prints each name done and reports each failure,
 * going on with the next, as docker does. Resolves 1 if any failed, else 0.
 *
 * @example
 * ```ts
 * return eachContainer(positionals, io, (c) => c.kill("SIGHUP"));
 * ```
 */
export async function eachContainer(refs: readonly string[], io: CliIo, act: (c: Awaited<ReturnType<typeof Container.attach>>) => Promise<unknown>): Promise<number> {
  let failed = false;
  for (const ref of refs) {
    try {
      await act(await Container.attach(ref));
      io.stdout.write(`${ref}\n`);
    } catch (error) {
      failed = true;
      reportError(io, error);
    }
  }
  return failed ? 1 : 0;
}

/**
 * The stop options of `-t, --time SECONDS` (none when not given); a UsageError naming the value
 * when it is not a whole number of seconds, 0 or more.
 *
 * @example
 * ```ts
 * await container.stop(stopTimeout(values.time, usage));
 * ```
 */
export function stopTimeout(time: string | undefined, usage: string): { timeoutMs?: number } {
  if (time === undefined) return {};
  const seconds = Number(time);
  if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError(`--time "${time}" must be a whole number of seconds, 0 or more`, usage);
  return { timeoutMs: seconds * 1000 };
}
