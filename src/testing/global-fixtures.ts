/**
 * `bento/vitest/global-setup`: a globalSetup entry as it is (its `setup` sweeps what killed runs
 * left), and the helpers for a globalSetup file of your own: `defineGlobalFixtures`, `prebuild`.
 *
 * Fixtures started once per vitest run, in vitest's main process (a `globalSetup` file), whose
 * connection details reach every worker through vitest's `provide`/`inject`. With `share`, one
 * fixture serves every concurrent vitest run on the machine (see fixture-registry.ts).
 */
import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import { SharedFixtureRegistry } from "./fixture-registry.js";
import { startFixture, type FixtureSource } from "./fixture-source.js";

export { setup } from "./run-setup.js";
export { prebuild } from "./prebuild.js";

/**
 * One fixture of {@link defineGlobalFixtures}.
 *
 * @example
 * ```ts
 * const redis: GlobalFixture<RunningContainer, { url: string }> = {
 *   start: new Container(redisImage, { ports: [6379], wait: Wait.forPort(6379) }),
 *   details: (c) => ({ url: `redis://${c.host}:${c.hostPort(6379)}` }),
 * };
 * ```
 */
export interface GlobalFixture<T extends AsyncDisposable, D> {
  /** What to start: a Container, a stack, or a function that starts one. */
  start: FixtureSource<T>;
  /** The details tests get from `globalFixture(name)` (`bento/vitest`): plain JSON data (it crosses to workers). */
  details: (started: T) => D | Promise<D>;
  /**
   * Share the fixture with concurrent vitest runs on this machine under this name: the first run
   * starts it, later ones use it, and it is removed when the last one ends. The run that started
   * it waits in its teardown for the others, so set vitest's `teardownTimeout` above how long they
   * may run after it.
   */
  share?: string;
}

/** The part of vitest's `TestProject` a global setup uses. */
export interface ProvideTarget {
  /** Makes `value` available to every test file as `inject(key)`. */
  provide(key: string, value: unknown): void;
}

/**
 * The key under which a fixture's details are provided to workers.
 *
 * @example
 * ```ts
 * inject(globalFixtureKey("db") as never);
 * ```
 */
export function globalFixtureKey(name: string): string {
  return `bento:fixture:${name}`;
}

interface Started {
  name: string;
  stop: () => Promise<void>;
}

/**
 * Makes a vitest `globalSetup` that starts the fixtures once, in the main process, before any test
 * file runs (all at once), provides their details to every worker of either pool (forks or
 * threads), and removes them when the run ends. If one fails to start, those already started are
 * removed and the run fails. Import it from `bento/vitest/global-setup`. Each fixture's `details`
 * gets the type its `start` gives; for a `start` function, TypeScript infers that from a named
 * function (not from an inline arrow).
 *
 * @example
 * ```ts
 * // test/global-setup.ts, named in vitest.config.ts: test: { globalSetup: ["test/global-setup.ts"] }
 * export default defineGlobalFixtures({
 *   db: { start: new Container(pg, { ports: [5432], wait: Wait.forPort(5432) }), details: (c) => ({ port: c.hostPort(5432) }) },
 * });
 * // in a test file (bento/vitest):
 * const { port } = globalFixture<{ port: number }>("db");
 * ```
 */
export function defineGlobalFixtures<F extends Record<string, AsyncDisposable>>(fixtures: { [K in keyof F]: GlobalFixture<F[K], unknown> }): (project: ProvideTarget) => Promise<() => Promise<void>> {
  if (typeof fixtures !== "object" || fixtures === null) throw new InvalidOptionError("fixtures", "expected { name: { start, details, share? } }");
  for (const [name, fixture] of Object.entries(fixtures) as [string, GlobalFixture<AsyncDisposable, unknown> | undefined][]) {
    if (typeof fixture?.details !== "function") throw new InvalidOptionError(`fixtures.${name}.details`, "expected a function (started) => details");
  }
  return async (project) => {
    const started: Started[] = [];
    const teardown = async () => {
      const errors: unknown[] = [];
      for (const { name, stop } of started.splice(0).reverse()) {
        try {
          await stop();
          debug("wait", `global fixture ${name}: removed`);
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, "removing the global fixtures failed");
    };
    const entries = Object.entries(fixtures) as [string, GlobalFixture<AsyncDisposable, unknown>][];
    const results = await Promise.allSettled(
      entries.map(async ([name, fixture]) => {
        const begin = async () => {
          const running = await startFixture(fixture.start);
          try {
            return { details: await fixture.details(running), stop: async () => void (await running[Symbol.asyncDispose]()) };
          } catch (error) {
            await running[Symbol.asyncDispose]();
            throw error;
          }
        };
        if (fixture.share === undefined) {
          const { details, stop } = await begin();
          started.push({ name, stop });
          project.provide(globalFixtureKey(name), details);
        } else {
          const lease = await new SharedFixtureRegistry().acquire(fixture.share, begin);
          started.push({ name, stop: () => lease.release() });
          project.provide(globalFixtureKey(name), lease.details);
        }
        debug("wait", `global fixture ${name}: ready`);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await teardown().catch(() => undefined);
      throw failed.reason;
    }
    return teardown;
  };
}
