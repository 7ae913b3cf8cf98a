/**
 * The CI recipe end to end with the CLI, each "machine" a child process with its own BENTO_HOME:
 * one job builds from a Dockerfile whose base is in the registry, writes the build cache and
 * pushes the image (`--cache-to`, `--push`); shards get every step from the cache (`--cache-from`,
 * or BENTO_CACHE_FROM) or pull the pushed image, and end with the same image id.
 */
import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import "../../../src/builder/index.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks as expectNoBuildLeaks } from "../builder/helpers.js";
import { bento } from "../cli/helpers.js";
import { expectNoLeaks as expectNoStoreLeaks } from "../store/helpers.js";
import { registriesRunning, startRegistry, type RegistryServer } from "./registry-server.js";

let registry: RegistryServer;
let context: string;
const homes: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  // The base image the Dockerfile names, in the registry as a CI job would find it.
  const home = machine();
  const store = Store.open(home);
  await Image.fromRootfs(busyboxRootfs()).build({ store, tag: `${registry.host}/base/busybox:1` });
  await store.push(`${registry.host}/base/busybox:1`);
  context = mkdtempSync(join(testRoot, "cli-cache-context-"));
  writeFileSync(join(context, "a.txt"), "from the context\n");
  writeFileSync(join(context, "Dockerfile"), `FROM ${registry.host}/base/busybox:1\nCOPY a.txt /app/\nRUN cat /app/a.txt > /app/copy.txt\nCMD ["cat", "/app/copy.txt"]\n`);
});
afterAll(async () => {
  await registry?.stop();
  expect(registriesRunning()).toBe(0);
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});
afterEach(async () => {
  expectNoBuildLeaks();
  for (const home of homes) await expectNoStoreLeaks(home);
});

function machine(): string {
  const home = mkdtempSync(join(testRoot, "machine-"));
  homes.push(home);
  return home;
}

/** `bento` as a machine of its own: its BENTO_HOME, pulls allowed (the base is in the registry). */
function on(home: string, args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof bento> {
  return bento(args, { env: { BENTO_HOME: home, BENTO_PULL_POLICY: "missing", ...env } });
}

describe(`bento build with a registry build cache`, () => {
  it("--cache-to and --push in one job; --cache-from or a pull in the shards give the same image", async () => {
    const cache = `${registry.host}/ci/app:buildcache`;
    const image = `${registry.host}/ci/app:1`;
    const job = await on(machine(), ["build", "-t", image, "--cache-to", `${cache},mode=max`, "--push", context]);
    expect(job.stderr).toContain(`cache: 3 steps written to ${cache} (mode max)`);
    expect(job.stderr).toMatch(new RegExp(`pushed ${image.replace(/[.]/g, "\\.")} \\(sha256:`));
    expect(job.code).toBe(0);
    const id = job.stdout.trim();

    const shard = await on(machine(), ["build", "--cache-from", cache, context]);
    expect(shard.code).toBe(0);
    expect(shard.stderr).toContain(`COPY a.txt /app/ (cached, from ${cache})`);
    expect(shard.stderr).toContain(`RUN cat /app/a.txt > /app/copy.txt (cached, from ${cache})`);
    expect(shard.stderr).toMatch(/cache: 3 of this build's steps from .* \(3 in it\), \d+ bytes downloaded/);
    expect(shard.stdout.trim()).toBe(id);

    const pulled = await Store.open(machine()).pull(image);
    expect(pulled.id).toBe(id);
  });

  it("BENTO_CACHE_TO in the job and BENTO_CACHE_FROM in the shards", async () => {
    const cache = `${registry.host}/ci/env:buildcache`;
    const job = await on(machine(), ["build", context], { BENTO_CACHE_TO: cache });
    expect(job.code).toBe(0);
    expect(job.stderr).toContain(`steps written to ${cache} (mode min)`);
    const shard = await on(machine(), ["build", context], { BENTO_CACHE_FROM: cache });
    expect(shard.code).toBe(0);
    expect(shard.stderr).toContain(`(cached, from ${cache})`);
    expect(shard.stdout.trim()).toBe(job.stdout.trim());
  });

  it("bad flags are usage errors that build nothing", async () => {
    const home = machine();
    const badMode = await on(home, ["build", "--cache-to", `${registry.host}/ci/x:cache,mode=all`, context]);
    expect(badMode.code).toBe(125);
    expect(badMode.stderr).toContain('--cache-to: "mode=all" is not understood; use a registry reference such as registry.example.com/app:buildcache, optionally followed by ,mode=max');
    const pushWithoutTag = await on(home, ["build", "--push", context]);
    expect(pushWithoutTag.code).toBe(125);
    expect(pushWithoutTag.stderr).toContain("--push needs a tag to push");
    const badEnv = await on(home, ["build", context], { BENTO_CACHE_TO: "ref=a,ref=b" });
    expect(badEnv.code).not.toBe(0);
    expect(badEnv.stderr).toContain('BENTO_CACHE_TO: "ref=b" is not understood');
    expect(await Store.open(home).images()).toEqual([]);
  });
});
