/**
 * Waits for a one-shot container to exit.
 */
import { BentoError, InvalidOptionError } from "../errors.js";
import { untilAborted, type WaitContext, type WaitStrategy } from "./wait-strategy.js";

/** Options of {@link Wait.forExit}. */
export interface ExitWaitOptions {
  /** The exit code that means success (default 0). */
  code?: number;
}

/**
 * Ready once the container exits with the expected code: for one-shot containers (migrations,
 * seeders). `start()` resolves after the exit; another code fails the start.
 *
 * @example
 * ```ts
 * const migrated = await new Container(migrations, { wait: Wait.forExit() }).start();
 * ```
 */
export class ExitWaitStrategy implements WaitStrategy {
  readonly description: string;
  readonly waitsForExit = true;
  private readonly code: number;

  constructor(options: ExitWaitOptions = {}) {
    const code = options.code ?? 0;
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new InvalidOptionError("Wait.forExit.code", `${String(code)} is not an exit code (0 to 255)`);
    this.code = code;
    this.description = `the container to exit with code ${code}`;
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    const exit = await untilAborted(context.exited, context.signal);
    if (exit.exitCode === this.code) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    throw new BentoError("ERR_WAIT_EXIT_CODE", `the container ${how}${exit.oomKilled ? " (out of memory)" : ""}, expected code ${this.code}`);
  }
}
