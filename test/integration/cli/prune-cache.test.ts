/**
 * Images built without a tag are build cache, named by their cache key: `bento images` shows
 * them, `bento prune` keeps them (the next build is all cache hits), `bento prune --all` removes
 * those no container uses.
 */
import "../setup-env.js";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { config } from "../../../src/config.js";
import { diskBytes } from "../../../src/runtime/machine-containers.js";
import { Container, Image } from "../../../src/index.js";
import type { BuildStepEvent } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { bento } from "./helpers.js";

const shortId = (id: string) => id.slice(7, 19);

async function build(image: Image): Promise<{ id: string; cached: boolean[] }> {
  const steps: BuildStepEvent[] = [];
  const { id } = await image.build({ onProgress: (e) => e.type === "step" && steps.push(e) });
  return { id, cached: steps.map((s) => s.cached) };
}

describe(`bento prune and the build cache`, () => {
  it("keeps images built without a tag unless --all, and says what it removes", async () => {
    const kept = Image.fromRootfs(busyboxRootfs()).run("echo kept > /kept");
    const used = Image.fromRootfs(busyboxRootfs()).run("echo used > /used");
    const first = await build(kept);
    const inUse = await build(used);

    const images = (await bento(["images"])).stdout;
    expect(images).toMatch(new RegExp(`^bento-build-cache\\s+[0-9a-f]{32}\\s+${shortId(first.id)}\\s`, "m"));
    expect(images).not.toContain("<none>");

    const prune = await bento(["prune"]);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toBe("Total reclaimed space: 0B\n");
    expect((await build(kept)).cached).toEqual([true, true]);

    // A container of one of them (stopped, so it can start again) keeps that one through --all.
    const stopped = await (await new Container(used, { command: ["true"] }).start()).stop();
    expect((await bento(["prune", "--help"])).stdout).toMatch(/--all\s+also remove the build cache/);
    const all = await bento(["prune", "--all"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^Deleted images:\\nuntagged: bento-build-cache:[0-9a-f]{32}\\ndeleted: ${first.id}\\n`));
    expect(all.stdout).not.toContain(inUse.id);
    expect((await build(kept)).cached).toEqual([true, false]);
    expect((await build(used)).cached).toEqual([true, true]);
    await stopped.remove();
    expect(leftovers([stopped.id])).toEqual([]);
  });

  it("reports the bytes --all actually freed (a 40 MB build layer), and removes the build lock files", async () => {
    const big = Image.fromRootfs(busyboxRootfs()).run("head -c 40000000 /dev/urandom > /big");
    await build(big);
    const home = config().home;
    const locks = join(home, "build-locks");
    expect(existsSync(locks) && readdirSync(locks).length > 0).toBe(true);
    const before = diskBytes(home);
    const all = await bento(["prune", "--all"]);
    expect(all.code).toBe(0);
    const freed = before - diskBytes(home);
    expect(freed).toBeGreaterThan(40_000_000);
    const reported = /Total reclaimed space: ([\d.]+)MB\n$/.exec(all.stdout);
    expect(reported, all.stdout).not.toBeNull();
    // Within the rounding of the printed value (three significant digits).
    expect(Math.abs(Number(reported![1]) * 1e6 - freed)).toBeLessThan(1e6);
    expect(readdirSync(locks)).toEqual([]);
  });
});
