/**
 * The registry client against a scripted registry on 127.0.0.1 (no privileges, no addon): the
 * answers a real registry rarely gives (schema 1, lying digests, unknown auth schemes). Pulls into
 * a store from such a registry are in test/integration/registry/misbehaving.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../../src/config.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { RegistryError } from "../../../src/registry/errors.js";
import { sha256 } from "../../../src/store/digest.js";
import { DigestMismatchError } from "../../../src/store/errors.js";
import { MediaType } from "../../../src/store/types.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function fake(handler: Handler, ping: Handler = (_req, res) => res.writeHead(200).end("{}")): Promise<string> {
  const server = createServer((req, res) => (req.url === "/v2/" ? ping : handler)(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

const cfg = readConfig({ DOCKER_CONFIG: "/nonexistent-bento" });

describe("RegistryClient", () => {
  it("refuses Docker schema 1 manifests with a fix", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws" }).end(JSON.stringify({ schemaVersion: 1, fsLayers: [] }));
    });
    const err = await new RegistryClient(host, { config: cfg }).getManifest("old", "1", "pull old").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/schema 1 manifest.*push it again/);
  });

  it("checks a tag's manifest against Docker-Content-Digest", async () => {
    const host = await fake((_req, res) => {
      res.writeHead(200, { "content-type": MediaType.ociManifest, "docker-content-digest": sha256("something else") }).end(JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }));
    });
    const err = await new RegistryClient(host, { config: cfg }).getManifest("app", "1", "pull app").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(err).toMatchObject({ expected: sha256("something else") });
  });

  it("names an authentication scheme it does not speak", async () => {
    const unauthorized: Handler = (_req, res) => res.writeHead(401, { "www-authenticate": "Negotiate" }).end();
    const host = await fake(unauthorized, unauthorized);
    const err = await new RegistryClient(host, { config: cfg }).getManifest("app", "1", "pull app").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toContain('asks for "negotiate" authentication');
  });

  it("takes a blob the registry stored as uploaded when the upload's last request answers 500", async () => {
    const blob = Buffer.from("layer bytes");
    const digest = sha256(blob);
    const seen: string[] = [];
    let stored = false;
    const host = await fake((req, res) => {
      seen.push(`${req.method} ${req.url?.split("?")[0]}`);
      if (req.method === "HEAD") return void res.writeHead(stored ? 200 : 404).end();
      if (req.method === "POST") return void res.writeHead(202, { location: "/v2/app/blobs/uploads/u1" }).end();
      req.resume();
      req.on("end", () => {
        stored = true; // stored, then the scratch files' removal failed (distribution issue 1645)
        res.writeHead(500).end('{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}');
      });
    });
    const client = new RegistryClient(host, { config: cfg });
    const outcome = await client.uploadBlob("app", { digest, size: blob.length, open: () => Readable.from([blob]) }, "push app");
    expect(outcome).toBe("uploaded");
    expect(seen).toEqual([`HEAD /v2/app/blobs/${digest}`, "POST /v2/app/blobs/uploads/", "PUT /v2/app/blobs/uploads/u1", `HEAD /v2/app/blobs/${digest}`]);
  });

  it("fails an upload answered 500 when the blob is not there", async () => {
    const blob = Buffer.from("layer bytes");
    const host = await fake((req, res) => {
      if (req.method === "HEAD") return void res.writeHead(404).end();
      if (req.method === "POST") return void res.writeHead(202, { location: "/v2/app/blobs/uploads/u1" }).end();
      req.resume();
      req.on("end", () => res.writeHead(500).end());
    });
    const err = await new RegistryClient(host, { config: cfg }).uploadBlob("app", { digest: sha256(blob), size: blob.length, open: () => Readable.from([blob]) }, "push app").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/push app: .*answered 500/);
  });
});
