/**
 * OCI conformance over shared/corpora/oci (see its README.md): real image layouts and
 * `docker save` tarballs with whiteouts are imported; the filesystem their layers present, applied
 * in order as overlayfs presents them (modelled, and through a real overlay mount where the host
 * allows one), must be the one the corpus describes. The image-spec JSON schemas check the 81
 * pass/fail cases and every document the store writes.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Ajv, type ValidateFunction } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArchiveError } from "../../src/store/errors.js";
import type { Store } from "../../src/registry/store.js";
import { MediaType } from "../../src/store/types.js";
import { corpusDir } from "./corpora.js";
import { expectNoLeaks, flatten, imageOf, tarOf, tempDir, tempStore, treeOf, withOverlay, type Node } from "../integration/store/helpers.js";

const corpus = corpusDir("oci");
const gcr = join(corpus, "go-containerregistry");

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function newStore(): { store: Store; root: string } {
  const s = tempStore();
  cleanups.push(s.remove);
  return s;
}

const file = (content: string): Node => ({ type: "file", content });
const dir: Node = { type: "dir" };

/** Imports `path`, then checks each image's flattened filesystem against `expected`, in order. */
async function expectImported(path: string, expected: Array<Record<string, Node>>): Promise<void> {
  const { store, root } = newStore();
  const { images } = await store.import(path);
  expect(images).toHaveLength(expected.length);
  for (const [i, image] of images.entries()) {
    const lowers = await store.lowerDirs(image.id);
    expect(await flatten(lowers)).toEqual(expected[i]);
    const mounted = await withOverlay(lowers, (merged) => treeOf(merged));
    if (mounted !== undefined) expect(mounted).toEqual(expected[i]);
  }
  await expectNoLeaks(root);
}

describe("docker save tarballs with whiteouts", () => {
  it("whiteout_image.tar: .wh.foo.txt deletes foo.txt from the layer below", async () => {
    await expectImported(join(gcr, "docker-archive/whiteout_image.tar"), [{ "bar.txt": file("bar\n") }]);
  });

  it("whiteout_dir.tar: a whited-out directory created again holds only its new files", async () => {
    await expectImported(join(gcr, "docker-archive/whiteout_dir.tar"), [{ a: dir, "a/baz": file(""), b: dir, "b/bar": file("") }]);
  });

  it("overwritten_file.tar: a file replaced by a symlink in a later layer", async () => {
    await expectImported(join(gcr, "docker-archive/overwritten_file.tar"), [{ "bar.txt": file("bar\n"), "foo.txt": { type: "symlink", content: "bar.txt" } }]);
  });

  it("keeps the RepoTags, and the config bytes (so the image id)", async () => {
    const { store, root } = newStore();
    const { images } = await store.import(join(gcr, "docker-archive/whiteout_dir.tar"));
    expect(images[0]?.tags).toEqual(["localhost:5000/whiteout:latest"]);
    expect(images[0]?.id).toBe("sha256:92f1e3d53acdc7e137e73869abc4e87aba6614440a31723423790ca0d5db9111");
    expect((await store.inspect("localhost:5000/whiteout")).layers).toHaveLength(4);
    await expectNoLeaks(root);
  });
});

describe("OCI image layouts", () => {
  /** The README's checks, done here without the store: blob names, sizes and diff ids. */
  async function checkLayout(layout: string): Promise<number> {
    const blob = (digest: string): Buffer => readFileSync(join(layout, "blobs", ...digest.split(":")));
    const sha = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;
    for (const name of await fs.readdir(join(layout, "blobs/sha256"))) expect(sha(blob(`sha256:${name}`))).toBe(`sha256:${name}`);
    let layers = 0;
    const visit = (descriptor: { digest: string; size: number }): void => {
      const data = blob(descriptor.digest);
      expect(data.length).toBe(descriptor.size);
      const doc = JSON.parse(data.toString());
      if (Array.isArray(doc.manifests)) return doc.manifests.forEach(visit);
      expect(blob(doc.config.digest).length).toBe(doc.config.size);
      const config = JSON.parse(blob(doc.config.digest).toString());
      for (const [i, layer] of (doc.layers as Array<{ digest: string; size: number }>).entries()) {
        expect(blob(layer.digest).length).toBe(layer.size);
        if (config.rootfs) expect(sha(gunzipSync(blob(layer.digest)))).toBe(config.rootfs.diff_ids[i]);
        layers++;
      }
    };
    JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests.forEach(visit);
    return layers;
  }

  it("test_index_one_image: a manifest without a mediaType field", async () => {
    expect(await checkLayout(join(gcr, "layout/test_index_one_image"))).toBe(1);
    await expectImported(join(gcr, "layout/test_index_one_image"), [{ test: file("test\n") }]);
  });

  it("test_index: Docker media types, an odd descriptor type, a nested index and a nested manifest list", async () => {
    expect(await checkLayout(join(gcr, "layout/test_index"))).toBe(4);
    const { store, root } = newStore();
    const { images } = await store.import(join(gcr, "layout/test_index"));
    // Four index entries, two distinct manifests: entries 1, 3 and 4 all lead to the same one.
    expect(images.map((i) => i.manifestDigest)).toEqual(["sha256:eebff607b1628d67459b0596643fc07de70d702eccf030f0bc7bb6fc2b278650", "sha256:32589985702551b6c56033bb3334432a0a513bf9d6aceda0f67c42b003850720"]);
    // ref.name annotations "1".."4" are bare tags with no repository: they name nothing.
    expect(images.every((i) => i.tags.length === 0)).toBe(true);
    expect(await flatten(await store.lowerDirs(images[0]!.id))).toEqual({ bar: file("bar\n"), foo: file("foo\n") });
    expect(await flatten(await store.lowerDirs(images[1]!.id))).toEqual({ bat: file("bat\n"), baz: file("baz\n") });
    // Manifests are kept byte for byte, Docker media type included.
    const index = JSON.parse(await fs.readFile(join(root, "index.json"), "utf8"));
    expect(index.manifests.map((m: { mediaType: string }) => m.mediaType)).toEqual([MediaType.dockerManifest, MediaType.dockerManifest]);
    await expectNoLeaks(root);
  });

  it("test_index_media_type: an artifact (Helm chart) is not a container image and is refused", async () => {
    expect(await checkLayout(join(gcr, "layout/test_index_media_type"))).toBe(1);
    const { store, root } = newStore();
    const error = await store.import(join(gcr, "layout/test_index_media_type")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArchiveError);
    expect((error as Error).message).toMatch(/application\/vnd\.cncf\.helm\.config\.v1\+json is not a container image config/);
    expect(await store.images()).toEqual([]);
    await expectNoLeaks(root);
  });
});

// ---- JSON schemas ----

const schemaDir = join(corpus, "image-spec/schema");
const registrations: Record<string, string[]> = {
  "config-schema.json": ["https://opencontainers.org/schema/image/config"],
  "content-descriptor.json": ["https://opencontainers.org/schema/descriptor", "https://opencontainers.org/schema/image/content-descriptor.json"],
  "defs-descriptor.json": ["https://opencontainers.org/schema/image/descriptor/mediaType", "https://opencontainers.org/schema/defs-descriptor.json", "https://opencontainers.org/schema/image/defs-descriptor.json"],
  "defs.json": ["https://opencontainers.org/schema/defs.json", "https://opencontainers.org/schema/image/defs.json", "https://opencontainers.org/schema/image/descriptor/defs.json"],
  "image-index-schema.json": ["https://opencontainers.org/schema/image/index"],
  "image-layout-schema.json": ["https://opencontainers.org/schema/image/layout"],
  "image-manifest-schema.json": ["https://opencontainers.org/schema/image/manifest"],
};

/**
 * Draft-04 to what Ajv 8 reads: the root `id` becomes `$id` (one copy per URL the README lists),
 * nested `id`s are dropped (draft-04 ignores siblings of `$ref`, and nothing refers to them).
 */
function convert(node: unknown, rootId: string | undefined): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, undefined));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue;
    if (key === "id" && typeof value === "string") continue;
    out[key] = convert(value, undefined);
  }
  if (rootId !== undefined) out.$id = rootId;
  return out;
}

function loadSchemas(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat("uri", (s: string) => {
    try {
      return new URL(s).protocol.length > 1;
    } catch {
      return false;
    }
  });
  ajv.addFormat("date-time", (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
  for (const [name, urls] of Object.entries(registrations)) {
    const raw = JSON.parse(readFileSync(join(schemaDir, name), "utf8"));
    for (const url of urls) ajv.addSchema(convert(raw, url) as object);
  }
  const validators = new Map<string, ValidateFunction>();
  for (const [name, urls] of Object.entries(registrations)) validators.set(name, ajv.getSchema(urls[0] as string) as ValidateFunction);
  return validators;
}

/** The checks upstream's validator makes beyond the schema (the README lists the four). */
function extraChecks(schema: string, doc: unknown): string[] {
  const problems: string[] = [];
  const walkDescriptors = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walkDescriptors);
    if (value === null || typeof value !== "object") return;
    const o = value as Record<string, unknown>;
    if (typeof o.digest === "string") {
      const [algorithm, encoded = ""] = o.digest.split(":");
      const lengths: Record<string, number> = { sha256: 64, sha512: 128 };
      const want = lengths[algorithm ?? ""];
      if (want !== undefined && !new RegExp(`^[a-f0-9]{${want}}$`).test(encoded)) problems.push(`digest ${o.digest}`);
    }
    if (typeof o.data === "string" && (o.data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.data))) problems.push("data is not padded base64");
    for (const v of Object.values(o)) walkDescriptors(v);
  };
  walkDescriptors(doc);
  if (schema === "config-schema.json") {
    const env = (doc as { config?: { Env?: unknown } }).config?.Env;
    if (Array.isArray(env)) for (const e of env) if (typeof e !== "string" || !/^[^=]+=.*$/.test(e)) problems.push(`Env ${String(e)}`);
  }
  return problems;
}

function validate(validators: Map<string, ValidateFunction>, schema: string, body: string): { valid: boolean; why: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    return { valid: false, why: `not JSON: ${(e as Error).message}` };
  }
  const fn = validators.get(schema);
  if (!fn) throw new Error(`no schema ${schema}`);
  const ok = fn(doc) as boolean;
  const extra = extraChecks(schema, doc);
  return { valid: ok && extra.length === 0, why: [...(fn.errors ?? []).map((e) => `${e.instancePath} ${e.message}`), ...extra].join("; ") };
}

interface SchemaCase {
  id: string;
  schema: string;
  expectValid: boolean;
  body: string;
  comment?: string;
  convertDockerMediaTypes?: boolean;
  sha256OfBody?: string;
}

const dockerToOci: Array<[string, string]> = [
  [MediaType.dockerManifestList, MediaType.ociIndex],
  [MediaType.dockerManifest, MediaType.ociManifest],
  [MediaType.dockerLayerGzip, MediaType.ociLayerGzip],
  [MediaType.dockerConfig, MediaType.ociConfig],
];

describe("image-spec schemas", () => {
  const cases = JSON.parse(readFileSync(join(corpus, "image-spec/cases.json"), "utf8")).cases as SchemaCase[];
  const validators = loadSchemas();

  it("has all 81 cases", () => {
    expect(cases).toHaveLength(81);
  });

  for (const c of cases) {
    it(`${c.id}: ${c.expectValid ? "valid" : "invalid"}${c.comment ? ` (${c.comment})` : ""}`, () => {
      let body = c.body;
      if (c.convertDockerMediaTypes) {
        expect(`sha256:${createHash("sha256").update(body, "utf8").digest("hex")}`).toBe(c.sha256OfBody?.startsWith("sha256:") ? c.sha256OfBody : `sha256:${c.sha256OfBody}`);
        for (const [from, to] of dockerToOci) body = body.split(from).join(to);
      }
      const result = validate(validators, c.schema, body);
      expect({ valid: result.valid, why: result.valid === c.expectValid ? "" : result.why }).toEqual({ valid: c.expectValid, why: "" });
    });
  }

  it("accepts every document the store writes and exports", async () => {
    const { store, root } = newStore();
    const img = await imageOf(store, [tarOf([{ path: "a", body: "a" }]), tarOf([{ path: ".wh.a" }])], ["app:1"], {
      created: "2024-01-01T00:00:00Z",
      config: { Env: ["PATH=/bin"], Cmd: ["sh"], Healthcheck: { Test: ["CMD", "true"] }, Shell: ["/bin/sh", "-c"], OnBuild: [] },
      history: [{ created_by: "a" }, { created_by: "b" }],
    });
    const check = (schema: string, text: string): void => {
      const result = validate(validators, schema, text);
      expect(result.why).toBe("");
      expect(result.valid).toBe(true);
    };
    check("image-layout-schema.json", await fs.readFile(join(root, "oci-layout"), "utf8"));
    check("image-index-schema.json", await fs.readFile(join(root, "index.json"), "utf8"));
    check("image-manifest-schema.json", (await store.readBlob(img.manifestDigest)).toString());
    check("config-schema.json", (await store.readBlob(img.id)).toString());
    const out = tempDir("bento-oci-export-");
    cleanups.push(out.remove);
    for (const format of ["oci", "docker"] as const) {
      const archive = join(out.dir, `${format}.tar`);
      await store.export("app:1", archive, { format });
      const x = join(out.dir, format);
      await fs.mkdir(x);
      execFileSync("tar", ["xf", archive, "-C", x]);
      check("image-layout-schema.json", await fs.readFile(join(x, "oci-layout"), "utf8"));
      check("image-index-schema.json", await fs.readFile(join(x, "index.json"), "utf8"));
      // The exported directory is itself an OCI layout the store reads back.
      const again = newStore();
      expect((await again.store.import(x)).images.map((i) => i.id)).toEqual([img.id]);
    }
    await expectNoLeaks(root);
  });
});
