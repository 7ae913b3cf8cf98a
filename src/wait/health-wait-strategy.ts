/**
 * Waits for the container's healthcheck to report healthy.
 */
import { BentoError } from "../errors.js";
import { untilAborted, type WaitContext, type WaitStrategy } from "./wait-strategy.js";

/**
 * Ready once the healthcheck bento runs (the image's HEALTHCHECK, or the container's
 * `healthcheck` option) reports healthy; fails when it reports unhealthy. The default wait of a
 * container that has a healthcheck.
 *
 * @example
 * ```ts
 * new Container(image, { healthcheck: { test: ["CMD", "pg_isready"], intervalMs: 200 }, wait: Wait.forHealthy() });
 * ```
 */
export class HealthWaitStrategy implements WaitStrategy {
  readonly description = "the healthcheck to report healthy";

  constructor() {
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    const health = context.health;
    if (health === undefined) {
      throw new BentoError("ERR_INVALID_OPTION", "Wait.forHealthy(): the container has no healthcheck; give the image a HEALTHCHECK or the container a healthcheck option");
    }
    for (;;) {
      const changed = health.changed();
      const state = health.state();
      if (state.status === "healthy") return;
      const last = state.log.at(-1);
      if (state.status === "unhealthy") {
        const output = last?.output.trim() ? `: ${last.output.trim().slice(0, 200)}` : "";
        throw new BentoError("ERR_UNHEALTHY", `the healthcheck reported unhealthy after ${state.failingStreak} failures in a row (last exit ${last?.exitCode}${output})`);
      }
      context.note(this.description, last ? `status starting, last probe exit ${last.exitCode}` : "status starting, no probe yet");
      await untilAborted(changed, context.signal);
    }
  }
}
