/**
 * Measures the store's layer paths: unpacking a layer blob into `layers/<diffid>` (gzip and
 * plain), and createLayerFromDir of the unpacked tree. Run: npx tsx bench/store-unpack.ts [files]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { sha256 } from "../src/store/digest.js";
import { Store } from "../src/registry/store.js";
import { encodeHeader, END_OF_ARCHIVE, padding } from "../src/store/tar-writer.js";
import { MediaType } from "../src/store/types.js";

function layerTar(files: number, bytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let d = 0; d < Math.ceil(files / 100); d++) {
    parts.push(encodeHeader({ path: `usr/share/d${d}/`, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 }));
  }
  const body = Buffer.alloc(bytes, 0x61);
  for (let i = 0; i < files; i++) {
    parts.push(encodeHeader({ path: `usr/share/d${Math.floor(i / 100)}/file-${i}`, type: "file", mode: 0o644, uid: 0, gid: 0, size: bytes, mtime: 1_700_000_000 }));
    parts.push(body, padding(bytes));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 5000);
  const bytes = Number(process.argv[3] ?? 4096);
  const tar = layerTar(files, bytes);
  const root = mkdtempSync(join(tmpdir(), "bento-bench-store-"));
  try {
    const store = Store.open(root);
    for (const gzip of [true, false]) {
      const blob = gzip ? gzipSync(tar) : tar;
      const { digest, size } = await store.putBlob(blob);
      const layer = { digest, diffId: sha256(tar), size, mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer };
      const t0 = performance.now();
      const dir = await store.layerDir(layer.diffId, layer);
      const unpackMs = performance.now() - t0;
      console.log(`unpack ${gzip ? "gzip " : "plain"} ${files} files x ${bytes} B (${(tar.length / 1e6).toFixed(1)} MB tar): ${unpackMs.toFixed(0)} ms, ${((unpackMs * 1000) / files).toFixed(0)} us/file`);
      const t1 = performance.now();
      const created = await store.createLayerFromDir(dir);
      const createMs = performance.now() - t1;
      console.log(`createLayerFromDir of the same tree: ${createMs.toFixed(0)} ms (${(created.size / 1e6).toFixed(2)} MB gzip)`);
      rmSync(dir, { recursive: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
