/**
 * Waits for a command run in the container to succeed.
 */
import { InvalidOptionError } from "../errors.js";
import type { WaitContext, WaitStrategy } from "./wait-strategy.js";

const pollMs = 100;

/**
 * Ready once `argv`, run in the container (as `exec` runs it), exits with 0. It is run again 100 ms
 * after each failure.
 *
 * @example
 * ```ts
 * new Container(postgres, { wait: Wait.forCommand(["pg_isready", "-U", "postgres"]) });
 * ```
 */
export class CommandWaitStrategy implements WaitStrategy {
  readonly description: string;
  private readonly argv: readonly string[];

  constructor(argv: string[]) {
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
      throw new InvalidOptionError("Wait.forCommand.argv", 'expected a non-empty array of strings, e.g. ["pg_isready"]');
    }
    this.argv = Object.freeze([...argv]);
    this.description = `command ${JSON.stringify(argv)} to exit 0`;
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    for (;;) {
      try {
        const { exitCode, stdout, stderr } = await context.exec([...this.argv]);
        if (exitCode === 0) return;
        const output = (stdout + stderr).trim().split("\n").at(-1)?.slice(0, 200) ?? "";
        context.note(this.description, `last run: exit ${exitCode}${output ? `: ${output}` : ""}`);
      } catch (error) {
        context.signal.throwIfAborted();
        context.note(this.description, `last run: ${(error as Error).message}`);
      }
      await context.sleep(pollMs);
    }
  }
}
