/**
 * `Store.default()` reads BENTO_HOME, which bento reads once per process: the test loads the
 * modules again for its own BENTO_HOME. It has a file of its own because that reload would give
 * the tests after it in the same file two copies of every module loaded later by dynamic
 * import (an error class of the second copy is not an instance of the first's).
 */
import { afterEach, expect, it, vi } from "vitest";
import { expectNoLeaks, tempStore } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

it("Store.default() lives at BENTO_HOME", async () => {
  const { root, remove } = tempStore();
  cleanups.push(remove);
  const saved = process.env.BENTO_HOME;
  process.env.BENTO_HOME = root;
  try {
    vi.resetModules();
    const { Store } = await import("../../../src/registry/store.js");
    expect(Store.default().root).toBe(root);
    expect(Store.default()).toBe(Store.default());
    await Store.default().images();
    await expectNoLeaks(root);
  } finally {
    if (saved === undefined) delete process.env.BENTO_HOME;
    else process.env.BENTO_HOME = saved;
  }
});
