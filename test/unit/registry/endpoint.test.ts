import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../../src/config.js";
import { credentialsFor, normalizeAuthKey } from "../../../src/registry/credentials.js";
import { blobUrl, isLoopbackHost, manifestUrl, pullBaseUrls, registryBaseUrl, repositoryScope, uploadCompleteUrl, uploadUrl } from "../../../src/registry/endpoint.js";
import { defaultPlatform, formatPlatform, parsePlatform, platformsOf, selectManifest } from "../../../src/registry/platform-match.js";
import { parseReference } from "../../../src/store/reference.js";
import type { ImageIndex } from "../../../src/store/types.js";

const digest = `sha256:${"b".repeat(64)}` as const;
const cfg = readConfig({});

/** The manifest URL a reference resolves to, as pull builds it. */
function urlOf(ref: string, config = cfg): string {
  const r = parseReference(ref);
  return manifestUrl(registryBaseUrl(r.domain, config), r.path, r.digest ?? (r.tag as string));
}

describe("reference to URL", () => {
  it.each([
    ["alpine", "https://registry-1.docker.io/v2/library/alpine/manifests/latest"],
    ["alpine:3.20", "https://registry-1.docker.io/v2/library/alpine/manifests/3.20"],
    ["docker.io/library/alpine:3.20", "https://registry-1.docker.io/v2/library/alpine/manifests/3.20"],
    ["index.docker.io/me/app:1", "https://registry-1.docker.io/v2/me/app/manifests/1"],
    ["me/app", "https://registry-1.docker.io/v2/me/app/manifests/latest"],
    ["ghcr.io/org/team/app:v1", "https://ghcr.io/v2/org/team/app/manifests/v1"],
    ["localhost:5000/app:1", "http://localhost:5000/v2/app/manifests/1"],
    ["localhost/app", "http://localhost/v2/app/manifests/latest"],
    ["127.0.0.1:5000/a/b:c", "http://127.0.0.1:5000/v2/a/b/manifests/c"],
    ["[::1]:5000/app", "http://[::1]:5000/v2/app/manifests/latest"],
    ["registry.example.com:5000/app:1", "https://registry.example.com:5000/v2/app/manifests/1"],
    [`app:1@${digest}`, `https://registry-1.docker.io/v2/library/app/manifests/${digest}`],
  ])("%s -> %s", (ref, url) => {
    expect(urlOf(ref)).toBe(url);
  });

  it("uses plain HTTP for loopback and BENTO_INSECURE_REGISTRIES hosts only", () => {
    expect(["localhost", "localhost:1", "127.0.0.1", "127.1.2.3:80", "[::1]:5000", "reg.localhost:5000"].every(isLoopbackHost)).toBe(true);
    expect(["localhostx", "128.0.0.1", "10.0.0.1:5000", "example.com"].some(isLoopbackHost)).toBe(false);
    const insecure = readConfig({ BENTO_INSECURE_REGISTRIES: "10.0.0.5:5000, build-cache" });
    expect(registryBaseUrl("10.0.0.5:5000", insecure)).toBe("http://10.0.0.5:5000");
    expect(registryBaseUrl("build-cache:443", insecure)).toBe("http://build-cache:443");
    expect(registryBaseUrl("10.0.0.5:5001", insecure)).toBe("https://10.0.0.5:5001");
  });

  it("builds blob, upload and mount URLs and scopes", () => {
    expect(blobUrl("http://h:1", "a/b", digest)).toBe(`http://h:1/v2/a/b/blobs/${digest}`);
    expect(uploadUrl("http://h:1", "a/b")).toBe("http://h:1/v2/a/b/blobs/uploads/");
    expect(uploadUrl("http://h:1", "a/b", { digest, from: "c/d" })).toBe(`http://h:1/v2/a/b/blobs/uploads/?mount=sha256%3A${"b".repeat(64)}&from=c%2Fd`);
    expect(uploadCompleteUrl("/v2/a/blobs/uploads/u1?_state=x%3D", "http://h:1/v2/a/blobs/uploads/", digest)).toBe(`http://h:1/v2/a/blobs/uploads/u1?_state=x%3D&digest=sha256%3A${"b".repeat(64)}`);
    expect(uploadCompleteUrl("https://s3.example/up?sig=1", "http://h:1/v2/a/blobs/uploads/", digest)).toBe(`https://s3.example/up?sig=1&digest=sha256%3A${"b".repeat(64)}`);
    expect(repositoryScope("library/alpine", ["pull"])).toBe("repository:library/alpine:pull");
    expect(repositoryScope("a/b", ["pull", "push"])).toBe("repository:a/b:pull,push");
  });

  it("puts mirrors first for pulls (BENTO_REGISTRY_MIRRORS)", () => {
    const mirrored = readConfig({ BENTO_REGISTRY_MIRRORS: "https://mirror.example.com/, ghcr.io=http://127.0.0.1:5001, docker.io=http://127.0.0.1:5002" });
    expect(pullBaseUrls("docker.io", mirrored)).toEqual(["https://mirror.example.com", "http://127.0.0.1:5002", "https://registry-1.docker.io"]);
    expect(pullBaseUrls("ghcr.io", mirrored)).toEqual(["http://127.0.0.1:5001", "https://ghcr.io"]);
    expect(pullBaseUrls("quay.io", mirrored)).toEqual(["https://quay.io"]);
    expect(() => readConfig({ BENTO_REGISTRY_MIRRORS: "mirror.example.com" })).toThrow(/BENTO_REGISTRY_MIRRORS: "mirror.example.com" is not a mirror/);
    expect(() => readConfig({ BENTO_REGISTRY_MIRRORS: "https://m.example.com/path" })).toThrow(/not a mirror/);
  });
});

describe("config", () => {
  it("reads BENTO_PULL_POLICY, BENTO_REGISTRY_AUTH and the Docker config path", () => {
    expect(readConfig({}).pullPolicy).toBe("missing");
    expect(readConfig({ BENTO_PULL_POLICY: "always" }).pullPolicy).toBe("always");
    expect(() => readConfig({ BENTO_PULL_POLICY: "Always" })).toThrow(/BENTO_PULL_POLICY: "Always" is not a pull policy/);
    const auth = readConfig({ BENTO_REGISTRY_AUTH: JSON.stringify({ "localhost:5000": { username: "u", password: "p:q" }, "ghcr.io": { auth: Buffer.from("me:tok").toString("base64") } }) });
    expect([...auth.registryAuth]).toEqual([
      ["localhost:5000", { username: "u", password: "p:q" }],
      ["ghcr.io", { username: "me", password: "tok" }],
    ]);
    expect(readConfig({ BENTO_REGISTRY_AUTH: JSON.stringify({ auths: { h: { username: "a", password: "b" } } }) }).registryAuth.get("h")).toEqual({ username: "a", password: "b" });
    expect(() => readConfig({ BENTO_REGISTRY_AUTH: "{oops" })).toThrow(/BENTO_REGISTRY_AUTH: not valid JSON/);
    expect(() => readConfig({ BENTO_REGISTRY_AUTH: '{"h":{"user":"x"}}' })).toThrow(/the entry for "h" needs "username" and "password"/);
    expect(readConfig({ DOCKER_CONFIG: "/etc/dc" }).dockerConfigFile).toBe("/etc/dc/config.json");
    expect(readConfig({ HOME: "/home/me" }).dockerConfigFile).toBe("/home/me/.docker/config.json");
  });
});

describe("credentials", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const withConfig = (content: unknown): ReturnType<typeof readConfig> => {
    const dir = mkdtempSync(join(tmpdir(), "bento-cred-"));
    dirs.push(dir);
    writeFileSync(join(dir, "config.json"), typeof content === "string" ? content : JSON.stringify(content));
    return readConfig({ DOCKER_CONFIG: dir });
  };

  it("normalizes the keys Docker writes", () => {
    expect(normalizeAuthKey("https://index.docker.io/v1/")).toBe("docker.io");
    expect(normalizeAuthKey("registry-1.docker.io")).toBe("docker.io");
    expect(normalizeAuthKey("http://localhost:5000")).toBe("localhost:5000");
    expect(normalizeAuthKey("GHCR.io/v2/")).toBe("ghcr.io");
  });

  it("finds auths entries by host, BENTO_REGISTRY_AUTH first", async () => {
    const cfg = withConfig({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from("hub:pw").toString("base64") }, "localhost:5000": { identitytoken: "refresh" } } });
    expect(await credentialsFor("docker.io", cfg)).toMatchObject({ username: "hub", password: "pw" });
    expect(await credentialsFor("localhost:5000", cfg)).toMatchObject({ identityToken: "refresh" });
    expect(await credentialsFor("quay.io", cfg)).toBeUndefined();
    const both = { ...cfg, registryAuth: new Map([["docker.io", { username: "env", password: "x" }]]) };
    expect(await credentialsFor("docker.io", both)).toMatchObject({ username: "env", source: "BENTO_REGISTRY_AUTH" });
  });

  it("names the file when the Docker config is broken, and a missing helper", async () => {
    await expect(credentialsFor("docker.io", withConfig("{not json"))).rejects.toThrow(/config\.json: the Docker config file is not valid JSON/);
    await expect(credentialsFor("h", withConfig({ auths: { h: { auth: Buffer.from("nocolon").toString("base64") } } }))).rejects.toThrow(/auths\["h"\]\.auth is not base64 of "user:password"/);
    await expect(credentialsFor("h", withConfig({ credHelpers: { h: "bento-no-such-helper" } }))).rejects.toThrow(/docker-credential-bento-no-such-helper cannot be run/);
    expect(await credentialsFor("h", readConfig({ DOCKER_CONFIG: "/nonexistent-bento" }))).toBeUndefined();
  });
});

describe("platforms", () => {
  const entry = (n: number, platform: Record<string, string>, annotations?: Record<string, string>) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${String(n).repeat(64)}` as const,
    size: 1,
    platform: platform as { os: string; architecture: string },
    ...(annotations ? { annotations } : {}),
  });
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      entry(1, { os: "unknown", architecture: "unknown" }, { "vnd.docker.reference.type": "attestation-manifest" }),
      entry(2, { os: "linux", architecture: "amd64" }),
      entry(3, { os: "linux", architecture: "arm", variant: "v6" }),
      entry(4, { os: "linux", architecture: "arm", variant: "v7" }),
      entry(5, { os: "linux", architecture: "arm64" }),
      entry(6, { os: "windows", architecture: "amd64" }),
    ],
  };
  const pick = (p: string): string | undefined => selectManifest(index, parsePlatform(p))?.digest.slice(7, 8);

  it("parses os/arch[/variant], Go's and uname's names", () => {
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("aarch64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(parsePlatform(undefined)).toEqual(defaultPlatform());
    expect(() => parsePlatform("linux/")).toThrow(/is not a platform; use os\/arch\[\/variant\]/);
    expect(formatPlatform({ os: "linux", architecture: "arm", variant: "v7" })).toBe("linux/arm/v7");
  });

  it("matches os, architecture and variant (arm64 implies v8, arm v7); never an attestation", () => {
    expect(pick("linux/amd64")).toBe("2");
    expect(pick("linux/arm/v6")).toBe("3");
    expect(pick("linux/arm")).toBe("4");
    expect(pick("linux/arm64/v8")).toBe("5");
    expect(pick("linux/arm64")).toBe("5");
    expect(pick("windows/amd64")).toBe("6");
    expect(pick("linux/s390x")).toBeUndefined();
    expect(pick("linux/arm/v5")).toBeUndefined();
    expect(platformsOf(index)).toEqual(["linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64", "windows/amd64"]);
  });
});
