/**
 * The error of a startup deadline that passed.
 */
import { BentoError } from "../errors.js";

/**
 * The startup deadline (`startupTimeoutMs`, times `BENTO_TIMEOUT_SCALE`) passed before the
 * container was ready. It is the `cause` of the {@link StartupError} that `start()` throws.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StartupError && e.cause instanceof WaitTimeoutError) console.log(e.cause.timeoutMs); }
 * ```
 */
export class WaitTimeoutError extends BentoError {
  /** The timeout that passed, in milliseconds (already scaled). */
  readonly timeoutMs: number;
  /** What the start was waiting for when it passed, such as `port 8080/tcp`. */
  readonly waitingFor: string;

  constructor(timeoutMs: number, describedTimeout: string, waitingFor: string, progress: string[] = []) {
    const last = progress.length ? ` (${progress.join("; ")})` : "";
    super("ERR_WAIT_TIMEOUT", `timed out after ${describedTimeout} waiting for ${waitingFor}${last}; raise startupTimeoutMs, or set BENTO_TIMEOUT_SCALE on slow machines`);
    this.timeoutMs = timeoutMs;
    this.waitingFor = waitingFor;
  }
}
