/**
 * The one startup deadline of a container start: `startupTimeoutMs` times `BENTO_TIMEOUT_SCALE`,
 * counted from the call to `start()` and shared by every phase (build, setup, wait).
 */

/** The longest delay a Node timer takes (2^31 - 1 ms); longer ones fire at once. */
const maxTimerMs = 2 ** 31 - 1;

/**
 * The timeout that applies: `timeoutMs` times `scale`, rounded to whole milliseconds.
 *
 * @example
 * ```ts
 * scaledTimeoutMs(30_000, 2.5); // 75000
 * ```
 */
export function scaledTimeoutMs(timeoutMs: number, scale: number): number {
  return Math.round(timeoutMs * scale);
}

/**
 * A point in time by which a start must be done. Pure arithmetic over an injectable clock, so
 * it can be tested without waiting.
 *
 * @example
 * ```ts
 * const deadline = Deadline.start(60_000, config().timeoutScale);
 * deadline.remainingMs(); // 60000 at first, then less, never below 0
 * ```
 */
export class Deadline {
  private constructor(
    /** The timeout as the caller gave it (`startupTimeoutMs`). */
    readonly requestedMs: number,
    /** The `BENTO_TIMEOUT_SCALE` factor applied to it. */
    readonly scale: number,
    /** The clock reading when the start began. */
    readonly startedAt: number,
    private readonly now: () => number,
  ) {
    Object.freeze(this);
  }

  /**
   * A deadline `timeoutMs * scale` milliseconds from now.
   *
   * @example
   * ```ts
   * const deadline = Deadline.start(1000, 3, () => 0); // deadline.timeoutMs === 3000
   * ```
   */
  static start(timeoutMs: number, scale: number, now: () => number = Date.now): Deadline {
    return new Deadline(timeoutMs, scale, now(), now);
  }

  /** The timeout that applies, in milliseconds: `requestedMs * scale`. */
  get timeoutMs(): number {
    return scaledTimeoutMs(this.requestedMs, this.scale);
  }

  /** The clock reading at which the deadline passes. */
  get at(): number {
    return this.startedAt + this.timeoutMs;
  }

  /**
   * Milliseconds since the start began.
   *
   * @example
   * ```ts
   * debug("wait", `ready after ${deadline.elapsedMs()} ms`);
   * ```
   */
  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  /**
   * Milliseconds left, 0 once the deadline passed.
   *
   * @example
   * ```ts
   * setTimeout(onTimeout, deadline.remainingMs());
   * ```
   */
  remainingMs(): number {
    return Math.max(0, this.at - this.now());
  }

  /**
   * True once the deadline passed.
   *
   * @example
   * ```ts
   * if (deadline.expired()) throw new Error("too late");
   * ```
   */
  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /**
   * The timeout for messages: `60000 ms`, or `75000 ms (startupTimeoutMs 30000 x BENTO_TIMEOUT_SCALE 2.5)`.
   *
   * @example
   * ```ts
   * Deadline.start(30_000, 2.5).describe(); // "75000 ms (startupTimeoutMs 30000 x BENTO_TIMEOUT_SCALE 2.5)"
   * ```
   */
  describe(): string {
    return this.scale === 1 ? `${this.timeoutMs} ms` : `${this.timeoutMs} ms (startupTimeoutMs ${this.requestedMs} x BENTO_TIMEOUT_SCALE ${this.scale})`;
  }

  /**
   * Calls `onTimeout` when the deadline passes, unless the returned cancel function ran first.
   * The timer keeps Node alive: someone is waiting for the start.
   *
   * @example
   * ```ts
   * const cancel = deadline.onExpiry(() => controller.abort());
   * ```
   */
  onExpiry(onTimeout: () => void): () => void {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const remaining = this.remainingMs();
      if (remaining === 0) return void onTimeout();
      timer = setTimeout(arm, Math.min(remaining, maxTimerMs));
    };
    arm();
    return () => clearTimeout(timer);
  }

  /**
   * Settles like `pending`, or rejects with `onTimeout()` when the deadline passes first.
   *
   * @example
   * ```ts
   * const source = await deadline.race(resolveImage(image), () => new Error("build timed out"));
   * ```
   */
  race<T>(pending: Promise<T>, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = this.onExpiry(() => reject(onTimeout()));
      pending.then(
        (value) => {
          cancel();
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          reject(error);
        },
      );
    });
  }
}
