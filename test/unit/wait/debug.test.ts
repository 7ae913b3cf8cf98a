import { afterEach, describe, expect, it, vi } from "vitest";
import { readConfig } from "../../../src/config.js";
import { debug, debugEnabled } from "../../../src/debug.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("BENTO_DEBUG", () => {
  it("enables the named subsystems, or all with *", () => {
    const some = readConfig({ BENTO_DEBUG: "runtime, wait" });
    expect(["runtime", "build", "net", "wait"].map((s) => debugEnabled(s as "wait", some))).toEqual([true, false, false, true]);
    expect(debugEnabled("net", readConfig({ BENTO_DEBUG: "*" }))).toBe(true);
    expect(debugEnabled("net", readConfig({}))).toBe(false);
  });

  it("prints to stderr only when enabled", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    debug("wait", "not printed", readConfig({ BENTO_DEBUG: "net" }));
    expect(write).not.toHaveBeenCalled();
    debug("wait", "web: ready after 12 ms", readConfig({ BENTO_DEBUG: "wait" }));
    expect(write).toHaveBeenCalledOnce();
    expect(String(write.mock.calls[0]![0])).toMatch(/^bento:wait \d{4}-\d\d-\d\dT[\d:.]+Z web: ready after 12 ms\n$/);
  });
});
