/**
 * Two processes building the same image at the same moment (as two vitest workers would): both
 * succeed and share one result, because each step is built under a per-key lock and the second
 * process finds the first one's cache record.
 */
import { testRoot } from "../setup-env.js";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { raceChildren } from "../../fixtures/race.js";
import { Store } from "../../../src/registry/store.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, makeContext } from "./helpers.js";

const child = fileURLToPath(new URL("./concurrent-build-child.ts", import.meta.url));

interface ChildResult {
  id: string;
  layers: string[];
  steps: Array<{ step: number; cached: boolean }>;
  startedMs: number;
  endedMs: number;
}

afterEach(() => expectNoLeaks());

function race(args: string[]): Promise<ChildResult[]> {
  return raceChildren<ChildResult>(child, 2, args);
}

describe(`two processes build the same image at once`, () => {
  it("both succeed, one image, one tag, the same layers", async () => {
    const root = join(testRoot, "store-concurrent");
    const context = makeContext({ "input.txt": "shared input\n" });
    const results = await race([root, busyboxRootfs(), context]);
    expect(results[0]?.id).toBe(results[1]?.id);
    expect(results[0]?.layers).toEqual(results[1]?.layers);
    // They ran side by side: the RUN took 300 ms in one of them while the other waited.
    expect(Math.max(...results.map((r) => r.startedMs))).toBeLessThan(Math.min(...results.map((r) => r.endedMs)));
    const store = Store.open(root);
    const rows = await store.images();
    expect(rows.map((r) => [r.repository, r.tag, r.id])).toEqual([["shared-build", "1", results[0]?.id]]);
  });
});
