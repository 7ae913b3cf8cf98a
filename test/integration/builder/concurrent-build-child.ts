/**
 * A child process for concurrency.test.ts: opens the store, prints "ready", waits for "go" on
 * stdin (so two children start together), builds the shared image and prints the result as JSON.
 *
 *   tsx concurrent-build-child.ts <store root> <rootfs> <context>
 */
import { buildPlan } from "../../../src/builder/index.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { awaitRelease } from "../../fixtures/race.js";

/**
 * The image both children build. Its RUN writes a timestamp and a random number, so two runs of
 * it never give the same layer: the children end with one image only if one of them waited for
 * the other's result.
 */
export function sharedImage(rootfs: string): Image {
  return Image.fromRootfs(rootfs).workdir("/app").copy("input.txt", "./").run("sleep 0.3; date +%s%N > stamp.txt; echo $RANDOM >> stamp.txt").cmd(["cat", "/app/stamp.txt"]);
}

async function main(): Promise<void> {
  const [root, rootfs, context] = process.argv.slice(2);
  if (root === undefined || rootfs === undefined || context === undefined) throw new Error("usage: concurrent-build-child.ts <root> <rootfs> <context>");
  const store = Store.open(root);
  await store.images();
  await awaitRelease();
  const startedMs = Date.now();
  const steps: Array<{ step: number; cached: boolean }> = [];
  const result = await buildPlan(sharedImage(rootfs).toPlan(), {
    store,
    context,
    tag: "shared-build:1",
    onProgress: (e) => {
      if (e.type === "step") steps.push({ step: e.step, cached: e.cached });
    },
  });
  process.stdout.write(JSON.stringify({ id: result.id, layers: result.layers.map((l) => l.diffId), steps, startedMs, endedMs: Date.now() }));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
