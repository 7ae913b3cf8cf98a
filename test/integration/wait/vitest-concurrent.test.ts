import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { leftovers } from "../leaks.js";

const repo = join(import.meta.dirname, "../../..");
const vitest = join(repo, "node_modules/vitest/vitest.mjs");

describe(`useContainer in concurrent tests`, () => {
  it("removes each test's container when that test ends, never another's", { timeout: 240_000 }, async () => {
    const report = join(testRoot, "concurrent.txt");
    const { FORCE_COLOR: _color, ...inherited } = process.env;
    const child = spawn(process.execPath, [vitest, "run", "--root", "test/fixtures/vitest-concurrent"], {
      cwd: repo,
      env: { ...inherited, NO_COLOR: "1", BENTO_VC_REPORT: report },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    expect(output).toMatch(/Tests {2}9 passed \(9\)/);
    expect(code, output).toBe(0);
    const ids = readFileSync(report, "utf8").trim().split("\n");
    expect(new Set(ids).size).toBe(8);
    expect(leftovers(ids)).toEqual([]);
  });
});
