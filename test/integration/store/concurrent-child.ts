/**
 * A child process for concurrency.test.ts: opens the store, prints "ready", waits for "go" on
 * stdin (so two children start together), runs one operation and prints its result as JSON.
 *
 *   tsx concurrent-child.ts <store root> write-image
 *   tsx concurrent-child.ts <store root> unpack <layer info JSON>
 */
import { keepLayerXattr, Store } from "../../../src/registry/store.js";
import type { LayerInfo } from "../../../src/store/types.js";
import { unpackLayer } from "../../../src/store/unpack-layer.js";
import { imageOf, tarOf } from "./helpers.js";
import { awaitRelease } from "../../fixtures/race.js";

/** The image both writers write: the same bytes, so the same id and manifest. */
export function sharedImageLayers(): Buffer[] {
  return [tarOf(Array.from({ length: 50 }, (_, i) => ({ path: `base/f${i}`, body: `base ${i}` }))), tarOf([{ path: "app/run", body: "#!/bin/sh\n", mode: 0o755 }])];
}

async function main(): Promise<void> {
  const [root, mode, arg] = process.argv.slice(2);
  if (root === undefined || mode === undefined) throw new Error("usage: concurrent-child.ts <root> write-image|unpack [layer]");
  const store = Store.open(root);
  await store.images();
  await awaitRelease();
  const startedMs = Date.now();
  let result: unknown;
  if (mode === "write-image") {
    const written = await imageOf(store, sharedImageLayers(), ["shared:1"], { created: "2024-01-01T00:00:00Z" });
    result = { id: written.id, manifestDigest: written.manifestDigest };
  } else if (mode === "unpack") {
    const layer = JSON.parse(arg ?? "") as LayerInfo;
    const privileged = process.getuid?.() === 0;
    const unpacked = await unpackLayer({
      blobPath: store.blobPath(layer.digest),
      digest: layer.digest,
      diffId: layer.diffId,
      layersDir: store.layersDir,
      options: {
        chown: privileged,
        devices: privileged,
        opaqueXattr: privileged ? "trusted.overlay.opaque" : "user.overlay.opaque",
        keepXattr: (name) => keepLayerXattr(name, privileged),
      },
    });
    result = { dir: unpacked.dir, unpacked: unpacked.unpacked, viaStore: await store.layerDir(layer.diffId, layer) };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(`${JSON.stringify({ ...(result as object), startedMs, endedMs: Date.now() })}\n`);
}

if (process.argv[1]?.endsWith("concurrent-child.ts")) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
