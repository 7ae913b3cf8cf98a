/**
 * Waits for a line of the container's output.
 */
import { BentoError, InvalidOptionError } from "../errors.js";
import type { WaitContext, WaitStrategy } from "./wait-strategy.js";

/** Options of {@link Wait.forLog}. */
export interface LogWaitOptions {
  /** How many matching lines to wait for (default 1), counted from the container's first line. */
  times?: number;
  /** Which stream to read: "stdout", "stderr" or "both" (default). */
  stream?: "stdout" | "stderr" | "both";
}

/**
 * Ready once `times` lines of output contain the text (or match the RegExp). Lines written before
 * the wait began count. Fails when the output ends (the container exited) first.
 *
 * @example
 * ```ts
 * new Container(image, { wait: Wait.forLog(/listening on port \d+/, { times: 2 }) });
 * ```
 */
export class LogWaitStrategy implements WaitStrategy {
  readonly description: string;
  private readonly times: number;
  private readonly stream: "stdout" | "stderr" | "both";
  private readonly matches: (text: string) => boolean;

  constructor(pattern: string | RegExp, options: LogWaitOptions = {}) {
    const times = options.times ?? 1;
    if (!Number.isSafeInteger(times) || times < 1) throw new InvalidOptionError("Wait.forLog.times", `${String(times)} must be a whole number of 1 or more`);
    const stream = options.stream ?? "both";
    if (!["stdout", "stderr", "both"].includes(stream)) throw new InvalidOptionError("Wait.forLog.stream", `"${String(stream)}" must be "stdout", "stderr" or "both"`);
    if (pattern instanceof RegExp) {
      // A global or sticky RegExp keeps lastIndex between test() calls; a copy without them does not.
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
      this.matches = (text) => re.test(text);
    } else if (typeof pattern === "string" && pattern !== "") {
      this.matches = (text) => text.includes(pattern);
    } else {
      throw new InvalidOptionError("Wait.forLog.pattern", "expected a non-empty string or a RegExp");
    }
    this.times = times;
    this.stream = stream;
    const what = pattern instanceof RegExp ? String(pattern) : JSON.stringify(pattern);
    this.description = `log ${what}${times > 1 ? ` ${times} times` : ""}${stream === "both" ? "" : ` on ${stream}`}`;
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    let seen = 0;
    context.note(this.description, `seen ${seen} of ${this.times}`);
    for await (const line of context.logLines()) {
      if (this.stream !== "both" && line.stream !== this.stream) continue;
      if (!this.matches(line.text.endsWith("\n") ? line.text.slice(0, -1) : line.text)) continue;
      seen++;
      context.note(this.description, `seen ${seen} of ${this.times}`);
      if (seen >= this.times) return;
    }
    context.signal.throwIfAborted();
    throw new BentoError("ERR_WAIT_LOG_ENDED", `the output ended before ${this.description} (seen ${seen} of ${this.times})`);
  }
}
