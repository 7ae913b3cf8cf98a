/**
 * Waits for several strategies at once.
 */
import { InvalidOptionError } from "../errors.js";
import type { WaitContext, WaitStrategy } from "./wait-strategy.js";

/**
 * Ready once every strategy is; they wait side by side, and the first failure fails the start.
 *
 * @example
 * ```ts
 * new Container(image, { wait: Wait.forAll([Wait.forPort(5432), Wait.forLog("ready")]) });
 * ```
 */
export class CompositeWaitStrategy implements WaitStrategy {
  readonly description: string;
  readonly waitsForExit: boolean;
  private readonly strategies: readonly WaitStrategy[];

  constructor(strategies: WaitStrategy[]) {
    if (!Array.isArray(strategies) || strategies.length === 0 || !strategies.every((s) => typeof s?.waitUntilReady === "function")) {
      throw new InvalidOptionError("Wait.forAll.strategies", 'expected a non-empty array of wait strategies, e.g. [Wait.forPort(80), Wait.forLog("ready")]');
    }
    this.strategies = Object.freeze([...strategies]);
    this.description = `all of: ${strategies.map((s) => s.description).join("; ")}`;
    this.waitsForExit = strategies.some((s) => s.waitsForExit === true);
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    // A failure rejects at once; the caller then aborts the signal, which stops the others.
    await Promise.all(
      this.strategies.map(async (strategy) => {
        await strategy.waitUntilReady(context);
        context.note(strategy.description, "ready");
      }),
    );
  }
}
