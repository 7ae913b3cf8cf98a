import { describe, expectTypeOf, it } from "vitest";
import type { RunningContainer } from "../../../src/container/running-container.js";
import { defineGlobalFixtures } from "../../../src/testing/global-fixtures.js";
import { useContainer, useStack, type SuiteFixture } from "../../../src/testing/vitest.js";
import type { Container } from "../../../src/container/container.js";

declare const container: Container;
interface StartedStack extends AsyncDisposable {
  service(name: string): RunningContainer;
}
declare const stack: { up(): Promise<StartedStack> };

describe("bento/vitest types", () => {
  it("useContainer gives the started type: a promise in a test, a holder for a file or suite", () => {
    expectTypeOf(useContainer<RunningContainer>).toBeFunction();
    if (false as boolean) {
      expectTypeOf(useContainer(container)).toEqualTypeOf<Promise<RunningContainer>>();
      expectTypeOf(useContainer(container, { scope: "file" })).toEqualTypeOf<SuiteFixture<RunningContainer>>();
      expectTypeOf(useContainer(async () => container.start())).toEqualTypeOf<Promise<RunningContainer>>();
      expectTypeOf(useStack(stack, { scope: "suite" }).current.service("web")).toEqualTypeOf<RunningContainer>();
      // @ts-expect-error: a stopped fixture source must give something AsyncDisposable
      useContainer({ start: async () => 42 });
    }
  });

  it("defineGlobalFixtures infers each fixture's started type for details()", () => {
    if (false as boolean) {
      defineGlobalFixtures({
        web: { start: container, details: (c) => ({ port: c.hostPort(8080) }) },
        stack: { start: stack, details: (s) => ({ port: s.service("db").hostPort(5432) }), share: "db" },
      });
      defineGlobalFixtures({
        // @ts-expect-error: a RunningContainer has no service()
        web: { start: container, details: (c) => c.service("x") },
      });
    }
  });
});
