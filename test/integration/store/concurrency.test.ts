/**
 * Many processes, one store: two child processes released at the same moment write the same
 * image, and unpack the same layer. Both succeed, and they share one result.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { raceChildren } from "../../fixtures/race.js";
import { sha256 } from "../../../src/store/digest.js";
import { sharedImageLayers } from "./concurrent-child.js";
import { expectNoLeaks, putLayer, tarOf, tempStore, treeOf } from "./helpers.js";

const child = fileURLToPath(new URL("./concurrent-child.ts", import.meta.url));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

interface ChildResult {
  startedMs: number;
  endedMs: number;
  [key: string]: unknown;
}

function race(count: number, args: string[]): Promise<ChildResult[]> {
  return raceChildren<ChildResult>(child, count, args);
}

function overlapped(results: ChildResult[]): boolean {
  return Math.max(...results.map((r) => r.startedMs)) < Math.min(...results.map((r) => r.endedMs));
}

describe("two processes at once", () => {
  it("write the same image with the same tag: both succeed, one image, one tag", async () => {
    const { store, root, remove } = tempStore();
    cleanups.push(remove);
    const results = await race(2, [root, "write-image"]);
    expect(results[0]?.id).toBe(results[1]?.id);
    expect(results[0]?.manifestDigest).toBe(results[1]?.manifestDigest);
    const rows = await store.images();
    expect(rows.map((r) => [r.repository, r.tag, r.id])).toEqual([["shared", "1", results[0]?.id]]);
    const index = JSON.parse(await fs.readFile(join(root, "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(1);
    expect((await store.inspect("shared:1")).layers.map((l) => l.diffId)).toEqual(sharedImageLayers().map((t) => sha256(t)));
    await expectNoLeaks(root);
  });

  it("unpack the same layer: both succeed and share one directory", async () => {
    const { store, root, remove } = tempStore();
    cleanups.push(remove);
    // Big enough (1,500 files) that the two unpacks really run side by side.
    const entries = Array.from({ length: 1500 }, (_, i) => ({ path: `d${i % 30}/f${i}`, body: `content of file ${i}\n`.repeat(20) }));
    const layer = await putLayer(store, tarOf(entries));
    const results = await race(2, [root, "unpack", JSON.stringify(layer)]);
    const dir = join(root, "layers", layer.diffId.slice(7));
    for (const r of results) {
      expect(r.dir).toBe(dir);
      expect(r.viaStore).toBe(dir);
    }
    if (overlapped(results)) {
      // Both ran at once: one rename won, the other saw ENOTEMPTY and dropped its copy.
      expect(results.map((r) => r.unpacked).sort()).toEqual([false, true]);
    } else {
      console.warn("the two unpacks did not overlap in time on this machine; only the results were checked");
    }
    const tree = await treeOf(dir);
    expect(Object.keys(tree).filter((p) => tree[p]?.type === "file")).toHaveLength(1500);
    expect(tree["d7/f7"]).toEqual({ type: "file", content: "content of file 7\n".repeat(20) });
    expect((await fs.readdir(join(root, "layers"))).sort()).toEqual([layer.diffId.slice(7)]);
    await expectNoLeaks(root);
  });

  it("serializes tag changes under the lock: every one of many concurrent tags lands", async () => {
    const { store, root, remove } = tempStore();
    cleanups.push(remove);
    const layer = await putLayer(store, tarOf([{ path: "x", body: "x" }]));
    const img = await store.writeImage({ config: { architecture: "amd64", os: "linux" }, layers: [layer] });
    // In-process callers contend for the same flock, as separate processes would.
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.tag(img.id, `many:${i}`)));
    expect((await store.inspect(img.id)).repoTags).toHaveLength(20);
    await expectNoLeaks(root);
  });
});
