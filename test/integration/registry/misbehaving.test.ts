/**
 * Pulls from a scripted registry on 127.0.0.1 that misbehaves as a real one rarely does: a blob
 * longer than its descriptor, a 5xx (retried) and a 404 (not), an index entry of the wrong size.
 */
import "../setup-env.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../../src/config.js";
import { pullImage } from "../../../src/registry/pull.js";
import { sha256 } from "../../../src/store/digest.js";
import { DigestMismatchError } from "../../../src/store/errors.js";
import { Store } from "../../../src/registry/store.js";
import { MediaType } from "../../../src/store/types.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fake(handler: Handler, ping: Handler = (_req, res) => res.writeHead(200).end("{}")): Promise<string> {
  const server = createServer((req, res) => (req.url === "/v2/" ? ping : handler)(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

function store(): Store {
  const dir = mkdtempSync(join(tmpdir(), "bento-client-unit-"));
  dirs.push(dir);
  return Store.open(dir);
}

const cfg = readConfig({ DOCKER_CONFIG: "/nonexistent-bento" });

/** A one-layer image served by `handler` for blobs; manifests served honestly. */
function image(layer: Buffer): { manifest: Buffer; config: Buffer } {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256(config), size: config.length },
      layers: [{ mediaType: MediaType.ociLayer, digest: sha256(layer), size: layer.length }],
    }),
  );
  return { manifest, config };
}

describe("pull from a misbehaving registry", () => {
  it("stops a blob that runs past its size, and stores nothing", async () => {
    const layer = Buffer.alloc(1000, 1);
    const { manifest, config } = image(layer);
    const host = await fake((req, res) => {
      if (req.url?.includes("/manifests/")) res.writeHead(200, { "content-type": MediaType.ociManifest }).end(req.method === "HEAD" ? undefined : manifest);
      else if (req.url?.endsWith(sha256(config))) res.writeHead(200).end(config);
      else {
        // chunked, no Content-Length: more bytes than the manifest said
        res.writeHead(200);
        res.write(layer);
        res.end(Buffer.alloc(5000, 2));
      }
    });
    const s = store();
    const err = await pullImage(s, `${host}/app:1`, {}, cfg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as Error).message).toContain(`blob ${sha256(layer)}: size`);
    expect(await s.hasBlob(sha256(layer))).toBe(false);
    expect(await s.images()).toEqual([]);
    expect(readdirSync(s.tmpDir)).toEqual([]);
  });

  it("tries a blob again after a 5xx, and gives up on a 4xx", async () => {
    const layer = Buffer.alloc(100, 7);
    const { manifest, config } = image(layer);
    let layerGets = 0;
    let status = 503;
    const host = await fake((req, res) => {
      if (req.url?.includes("/manifests/")) res.writeHead(200, { "content-type": MediaType.ociManifest }).end(req.method === "HEAD" ? undefined : manifest);
      else if (req.url?.endsWith(sha256(config))) res.writeHead(200).end(config);
      else if (++layerGets === 1) res.writeHead(status).end("{}");
      else res.writeHead(200).end(layer);
    });
    const pulled = await pullImage(store(), `${host}/app:1`, {}, cfg);
    expect(layerGets).toBe(2);
    expect(pulled.downloadedBlobs).toBe(3);
    layerGets = 0;
    status = 404;
    const err = await pullImage(store(), `${host}/app:1`, {}, cfg).catch((e: unknown) => e);
    expect(layerGets).toBe(1);
    expect(err).toMatchObject({ code: "ERR_REGISTRY", status: 404 });
    expect((err as Error).message).toContain("lacks a blob the manifest names");
  });

  it("refuses an index entry whose manifest size differs from the descriptor", async () => {
    const layer = Buffer.alloc(10, 1);
    const { manifest } = image(layer);
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: sha256(manifest), size: manifest.length + 1, platform: { os: "linux", architecture: "amd64" } }] }),
    );
    const host = await fake((req, res) => {
      if (req.url?.endsWith("/manifests/1")) res.writeHead(200, { "content-type": MediaType.ociIndex }).end(req.method === "HEAD" ? undefined : index);
      else res.writeHead(200, { "content-type": MediaType.ociManifest }).end(manifest);
    });
    const err = await pullImage(store(), `${host}/app:1`, { platform: "linux/amd64" }, cfg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
  });
});
