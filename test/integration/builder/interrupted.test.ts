/**
 * A build that is cut off (a test timeout ends the worker, Ctrl-C, SIGKILL) keeps the steps it
 * finished in the cache, and `prebuild` (bento/vitest/global-setup) leaves a cache that the
 * tests' builds hit entirely.
 */
import "../setup-env.js";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Image } from "../../../src/image/image.js";
import { prebuild } from "../../../src/testing/prebuild.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, progress, summary } from "./helpers.js";
import { interruptedImage } from "./interrupted-build-child.js";

const repo = join(import.meta.dirname, "../../..");
const tsx = join(repo, "node_modules/tsx/dist/esm/index.mjs");

/** Runs the child build until its last step prints "started", then sends `signal`. */
async function interruptBuild(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ["--import", tsx, join(import.meta.dirname, "interrupted-build-child.ts"), busyboxRootfs(), signal], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, sig) => resolve({ code, signal: sig })));
  for await (const line of createInterface({ input: child.stdout })) {
    const event = JSON.parse(line) as { type: string; step: number; text?: string };
    if (event.type === "output" && event.step === 4 && event.text === "started\n") {
      child.kill(signal);
      break;
    }
  }
  return ended;
}

describe(`interrupted builds and prebuild`, () => {
  afterAll(() => expectNoLeaks());

  for (const signal of ["SIGKILL", "SIGINT"] as const) {
    it(`keeps the finished steps of a build ended by ${signal} in the cache`, { timeout: 240_000 }, async () => {
      expect((await interruptBuild(signal)).signal).toBe(signal);
      const seen = progress();
      await interruptedImage(busyboxRootfs(), signal, `echo after ${signal}`).build({ onProgress: seen.onProgress });
      expect(summary(seen.steps())).toEqual([
        `CACHED FROM ${busyboxRootfs()} (root filesystem directory)`,
        `CACHED RUN echo ${signal} > /one`,
        "CACHED RUN echo two > /two",
        // The cut-off step left no record: nothing was ever built after step 3.
        `new RUN echo after ${signal}`,
      ]);
    });
  }

  it("prebuild builds images so that later builds are all cache hits", { timeout: 240_000 }, async () => {
    const images = [Image.fromRootfs(busyboxRootfs()).run("echo pre > /pre"), Image.fromRootfs(busyboxRootfs()).env({ A: "1" }).run("echo pre2 > /pre")];
    const built = await prebuild(images);
    expect(built.map((b) => b.id)).toHaveLength(2);
    for (const [i, image] of images.entries()) {
      const seen = progress();
      const again = await image.build({ onProgress: seen.onProgress });
      expect(again.id).toBe(built[i]!.id);
      expect(seen.steps().every((s) => s.cached)).toBe(true);
    }
  });

  it("prebuild names a bad argument and builds nothing", async () => {
    await expect(prebuild([Image.fromRootfs(busyboxRootfs()), "alpine" as unknown as Image])).rejects.toThrow(/prebuild images\[1\].*expected an Image/);
  });
});
