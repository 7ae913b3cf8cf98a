/**
 * `bento/vitest`: container fixtures for vitest test files. `useContainer` starts one for a test
 * (removed when the test finishes, pass or fail) or for a file or suite (removed after its last
 * test); `globalFixture` reads, in any worker, the details of a fixture that `defineGlobalFixtures`
 * (`bento/vitest/global-setup`, src/testing/global-fixtures.ts) started once for the run. That one
 * is a separate entry because a globalSetup file runs outside vitest's workers, where importing
 * "vitest" throws. Works in both pools: in `threads`, a container started in a worker thread
 * outlives that thread (src/runtime/teardown.ts), and these helpers remove it.
 */
import { afterAll, beforeAll, inject, onTestFinished, type TestContext } from "vitest";
import { getCurrentTest } from "vitest/suite";
import { BentoError } from "../errors.js";
import { globalFixtureKey } from "./global-fixtures.js";
import { startFixture, type FixtureSource } from "./fixture-source.js";

export type { FixtureSource } from "./fixture-source.js";

/** Options of {@link useContainer} and {@link useStack}. */
export interface UseFixtureOptions {
  /**
   * "test" (default): call it in a test (or beforeEach); removed when the test finishes.
   * "file" or "suite": call it at the top of a file or in a describe; started before its first
   * test (beforeAll), removed after its last (afterAll).
   */
  scope?: "test" | "file" | "suite";
  /**
   * The test's own context (the test function's first argument), for the "test" scope: the
   * fixture is then removed when that test finishes. Required in concurrent tests
   * (`it.concurrent`, `describe.concurrent`), where vitest's global `onTestFinished` may belong to
   * another test that is running at the same time.
   */
  context?: TestContext;
}

/**
 * A fixture started for a file or suite; `current` is valid from its beforeAll to its afterAll.
 *
 * @example
 * ```ts
 * const db = useContainer(new Container(pg), { scope: "file" });
 * it("connects", () => expect(db.current.hostPort(5432)).toBeGreaterThan(0));
 * ```
 */
export interface SuiteFixture<T> {
  /** The started fixture; throws outside the tests of its file or suite. */
  readonly current: T;
}

const concurrentFix = 'pass the test\'s context: it.concurrent("...", async (context) => { await useContainer(container, { context }); })';

/** Registers `cleanup` to run when the test `context` belongs to (or the current one) finishes. */
function whenTestFinishes(cleanup: () => Promise<void>, context: TestContext | undefined): void {
  const current = getCurrentTest();
  if (context === undefined) {
    if (current === undefined) throw new Error("no current test");
    // Concurrent tests interleave at every await, and vitest's global hook binds to whichever
    // test ran last; only the test's own context is certain.
    if (current.concurrent) throw new BentoError("ERR_INVALID_OPTION", `useContainer(): in a concurrent test, ${concurrentFix}, so that its container is removed when this test finishes, not another`);
    onTestFinished(cleanup);
    return;
  }
  try {
    context.onTestFinished(cleanup);
  } catch (error) {
    // vitest refuses context.onTestFinished in beforeEach; its global hook is right there while
    // this test is the current one.
    if (current !== context.task) throw error;
    onTestFinished(cleanup);
  }
}

function forTest<T extends AsyncDisposable>(source: FixtureSource<T>, context: TestContext | undefined): Promise<T> {
  let started: T | undefined;
  try {
    whenTestFinishes(async () => {
      const running = started;
      started = undefined;
      await running?.[Symbol.asyncDispose]();
    }, context);
  } catch (error) {
    if (error instanceof BentoError) return Promise.reject(error);
    return Promise.reject(new BentoError("ERR_INVALID_OPTION", 'useContainer(): the "test" scope works inside a test or beforeEach; at the top of a file or in a describe, pass { scope: "file" } or { scope: "suite" }', { cause: error }));
  }
  return startFixture(source).then((running) => (started = running));
}

function forSuite<T extends AsyncDisposable>(source: FixtureSource<T>, scope: string): SuiteFixture<T> {
  let started: T | undefined;
  beforeAll(async () => {
    started = await startFixture(source);
  });
  afterAll(async () => {
    const running = started;
    started = undefined;
    await running?.[Symbol.asyncDispose]();
  });
  return {
    get current(): T {
      if (started === undefined) throw new BentoError("ERR_CONTAINER_STATE", `useContainer(): the ${scope} fixture is only available in the tests of its ${scope} (it starts in beforeAll and is removed in afterAll)`);
      return started;
    },
  };
}

/**
 * Starts a fixture (a `Container`, a stack, or a function that starts something AsyncDisposable)
 * and removes it after the test, file or suite, whether it passed or failed.
 *
 * @example
 * ```ts
 * it("stores a row", async () => {
 *   const db = await useContainer(new Container(pg, { ports: [5432], wait: Wait.forPort(5432) }));
 *   // ... db.hostPort(5432) ... removed when the test finishes
 * });
 * const cache = useContainer(new Container(redis), { scope: "file" }); // cache.current in tests
 * it.concurrent("runs beside others", async (context) => {
 *   const db = await useContainer(new Container(pg), { context }); // removed when this test ends
 * });
 * ```
 */
export function useContainer<T extends AsyncDisposable>(source: FixtureSource<T>, options?: { scope?: "test"; context?: TestContext }): Promise<T>;
/**
 * For a file or suite: call it at the top of a file or in a describe; read `current` in its tests.
 *
 * @example
 * ```ts
 * const cache = useContainer(new Container(redis, { ports: [6379] }), { scope: "suite" });
 * ```
 */
export function useContainer<T extends AsyncDisposable>(source: FixtureSource<T>, options: { scope: "file" | "suite" }): SuiteFixture<T>;
export function useContainer<T extends AsyncDisposable>(source: FixtureSource<T>, options: UseFixtureOptions = {}): Promise<T> | SuiteFixture<T> {
  const scope = options.scope ?? "test";
  if (scope === "test") return forTest(source, options.context);
  if (scope === "file" || scope === "suite") return forSuite(source, scope);
  throw new BentoError("ERR_INVALID_OPTION", `useContainer(): scope "${String(scope)}" must be "test", "file" or "suite"`);
}

/**
 * {@link useContainer} for stacks: anything with `up()` that gives an AsyncDisposable started
 * stack (removed as by `down()`).
 *
 * @example
 * ```ts
 * const stack = useStack(Stack.fromCompose("docker-compose.yml"), { scope: "file" });
 * it("serves", () => stack.current.service("web").hostPort(8080));
 * ```
 */
export function useStack<T extends AsyncDisposable>(stack: { up(): Promise<T> }, options?: { scope?: "test"; context?: TestContext }): Promise<T>;
/**
 * For a file or suite: call it at the top of a file or in a describe; read `current` in its tests.
 *
 * @example
 * ```ts
 * const stack = useStack(Stack.fromCompose("docker-compose.yml"), { scope: "file" });
 * ```
 */
export function useStack<T extends AsyncDisposable>(stack: { up(): Promise<T> }, options: { scope: "file" | "suite" }): SuiteFixture<T>;
export function useStack<T extends AsyncDisposable>(stack: { up(): Promise<T> }, options: UseFixtureOptions = {}): Promise<T> | SuiteFixture<T> {
  return options.scope === "file" || options.scope === "suite" ? useContainer(stack, { scope: options.scope }) : useContainer(stack, { scope: options.scope ?? "test", ...(options.context ? { context: options.context } : {}) });
}

/**
 * The details of a fixture that `defineGlobalFixtures` (`bento/vitest/global-setup`) started for this run.
 *
 * @example
 * ```ts
 * const { url } = globalFixture<{ url: string }>("api");
 * ```
 */
export function globalFixture<D>(name: string): D {
  const details = inject(globalFixtureKey(name) as never) as D | undefined;
  if (details === undefined) {
    throw new BentoError("ERR_INVALID_OPTION", `globalFixture(): no global fixture "${name}"; add it to the defineGlobalFixtures() of a file in vitest's globalSetup`);
  }
  return details;
}

/**
 * A database of its own for the test that calls it (in a test or beforeEach), made by a
 * database factory such as `postgresDatabases()` (`bento/modules/postgres`); dropped when the
 * test finishes, pass or fail. In concurrent tests pass the test's `context`, as for `useContainer`.
 *
 * @example
 * ```ts
 * const databases = postgresDatabases(globalFixture<PostgresConnection>("pg"), { migrations: "db/migrations" });
 * it("writes", async () => {
 *   const db = await useDatabase(databases); // db.url names a fresh copy of the migrated database
 * });
 * ```
 */
export function useDatabase<T extends AsyncDisposable>(databases: { create(): Promise<T> }, options: { context?: TestContext } = {}): Promise<T> {
  if (typeof databases?.create !== "function") return Promise.reject(new BentoError("ERR_INVALID_OPTION", "useDatabase(): expected a database factory with create(), such as postgresDatabases(server, template)"));
  return forTest(() => databases.create(), options.context);
}
