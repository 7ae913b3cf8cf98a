/**
 * What the vitest helpers can start: anything whose start gives an AsyncDisposable.
 */
import { InvalidOptionError } from "../errors.js";

/**
 * A fixture to start: a `Container` (`start()`), a stack (`up()`), or a function that starts
 * something. What it gives must be AsyncDisposable (`await using` works on it); that is how the
 * helpers clean it up.
 *
 * @example
 * ```ts
 * const source: FixtureSource<RunningContainer> = new Container(image, { wait: Wait.forPort(6379) });
 * const custom: FixtureSource<RunningContainer> = async () => (await new Container(image).start());
 * ```
 */
export type FixtureSource<T extends AsyncDisposable> =
  | {
      /** Starts it, as `Container.start()` does. */
      start(): Promise<T>;
    }
  | {
      /** Starts it, as a stack's `up()` does. */
      up(): Promise<T>;
    }
  | (() => Promise<T>);

/**
 * Starts a fixture source and checks that the result can be disposed.
 *
 * @example
 * ```ts
 * await using running = await startFixture(new Container(image));
 * ```
 */
export async function startFixture<T extends AsyncDisposable>(source: FixtureSource<T>): Promise<T> {
  let started: T;
  if (typeof source === "function") started = await source();
  else if (typeof source === "object" && source !== null && "start" in source && typeof source.start === "function") started = await source.start();
  else if (typeof source === "object" && source !== null && "up" in source && typeof source.up === "function") started = await source.up();
  else throw new InvalidOptionError("fixture", "expected a Container (start()), a stack (up()) or a function that starts one");
  if (typeof (started as Partial<AsyncDisposable>)?.[Symbol.asyncDispose] !== "function") {
    throw new InvalidOptionError("fixture", "what the fixture started is not AsyncDisposable, so it cannot be cleaned up; return a RunningContainer or a started stack");
  }
  return started;
}
