/**
 * Registry authentication against real registries on 127.0.0.1: Basic (htpasswd, bcrypt) with
 * credentials from a temp DOCKER_CONFIG, from HOME's ~/.docker/config.json, from a credential
 * helper and from BENTO_REGISTRY_AUTH; the Bearer token flow (distribution's `auth: token`, with
 * a token server here that signs RS256 JWTs); the 401 errors; and blob redirects that must not
 * carry the registry's credentials to storage.
 */
import "../setup-env.js";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// Store.pull/push read the process's config; point its Docker config at a temp dir before the
// first read (config() is read lazily, once).
const dockerConfigDir = mkdtempSync(join(tmpdir(), "bento-docker-config-"));
process.env.DOCKER_CONFIG = dockerConfigDir;
delete process.env.BENTO_REGISTRY_AUTH;

import { readConfig } from "../../../src/config.js";
import { RegistryAuthError } from "../../../src/registry/errors.js";
import { pullImage } from "../../../src/registry/pull.js";
import { pushImage } from "../../../src/registry/push.js";
import type { Store } from "../../../src/registry/store.js";
import { imageOf, tarOf, tempStore } from "../store/helpers.js";
import { registriesRunning, startCountingProxy, startRegistry, startTokenServer, type RegistryServer, type TokenServer } from "./registry-server.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});
afterAll(() => {
  rmSync(dockerConfigDir, { recursive: true, force: true });
});

function newStore(): Store {
  const s = tempStore();
  cleanups.push(s.remove);
  return s.store;
}

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString("base64");

async function makeImage(store: Store, tag: string): Promise<string> {
  const { id } = await imageOf(store, [tarOf([{ path: "who", body: tag }])], [tag]);
  return id;
}

describe("Basic auth (htpasswd)", () => {
  let registry: RegistryServer;
  beforeAll(async () => {
    registry = await startRegistry({ kind: "htpasswd", users: { alice: "s3cret:with:colons" } });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it("pushes and pulls with credentials from $DOCKER_CONFIG/config.json", async () => {
    writeFileSync(join(dockerConfigDir, "config.json"), JSON.stringify({ auths: { [`http://${registry.host}`]: { auth: basic("alice", "s3cret:with:colons") } } }));
    const a = newStore();
    const ref = `${registry.host}/basic/app:1`;
    const id = await makeImage(a, ref);
    expect((await a.push(ref)).uploadedBlobs).toBe(2);
    const b = newStore();
    expect((await b.pull(ref)).id).toBe(id);
  });

  it("reads ~/.docker/config.json under HOME, and credential helpers", async () => {
    const ref = `${registry.host}/basic/home:1`;
    const a = newStore();
    const id = await makeImage(a, ref);
    const home = scratch("bento-home-");
    mkdirSync(join(home, ".docker"));
    writeFileSync(join(home, ".docker", "config.json"), JSON.stringify({ auths: { [registry.host]: { username: "alice", password: "s3cret:with:colons" } } }));
    await pushImage(a, ref, {}, readConfig({ HOME: home }));

    const bin = scratch("bento-helper-");
    const helper = join(bin, "docker-credential-bentotest");
    writeFileSync(
      helper,
      `#!/bin/sh\nread server\n[ "$server" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${registry.host}","Username":"alice","Secret":"s3cret:with:colons"}'\n`,
    );
    chmodSync(helper, 0o755);
    const cfgDir = scratch("bento-helper-config-");
    writeFileSync(join(cfgDir, "config.json"), JSON.stringify({ credHelpers: { [registry.host]: "bentotest" } }));
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    cleanups.push(() => (process.env.PATH = path));
    const b = newStore();
    expect((await pullImage(b, ref, {}, readConfig({ DOCKER_CONFIG: cfgDir }))).id).toBe(id);
  });

  it("without credentials: 401 naming the host and how to log in", async () => {
    const a = newStore();
    const empty = scratch("bento-no-config-");
    const err = await pullImage(a, `${registry.host}/basic/app:1`, {}, readConfig({ DOCKER_CONFIG: empty })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(err).toMatchObject({ code: "ERR_REGISTRY_AUTH", host: registry.host, status: 401, hadCredentials: false });
    expect((err as Error).message).toContain(`${registry.host} requires authentication`);
    expect((err as Error).message).toContain(join(empty, "config.json"));
    expect((err as Error).message).toContain("~/.docker/config.json");
  });

  it("with a wrong password: 401 saying the credentials were rejected", async () => {
    const a = newStore();
    const cfg = readConfig({ DOCKER_CONFIG: scratch("bento-no-config-"), BENTO_REGISTRY_AUTH: JSON.stringify({ [registry.host]: { username: "alice", password: "wrong" } }) });
    const err = await pullImage(a, `${registry.host}/basic/app:1`, {}, cfg).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_REGISTRY_AUTH", status: 401, hadCredentials: true });
    expect((err as Error).message).toContain("rejected the credentials");
  });

  it("follows blob redirects to storage on another origin without the registry's Authorization", async () => {
    const a = newStore();
    const ref = `${registry.host}/basic/redirect:1`;
    const cfg = readConfig({ DOCKER_CONFIG: scratch("bento-no-config-"), BENTO_REGISTRY_AUTH: JSON.stringify({ [registry.host]: { username: "alice", password: "s3cret:with:colons" } }) });
    const id = await makeImage(a, ref);
    await pushImage(a, ref, {}, cfg);
    const proxy = await startCountingProxy(registry.host, { redirectBlobs: true, storageAuthorization: `Basic ${basic("alice", "s3cret:with:colons")}` });
    cleanups.push(() => proxy.close());
    const viaProxy = readConfig({ DOCKER_CONFIG: scratch("bento-no-config-"), BENTO_REGISTRY_AUTH: JSON.stringify({ [proxy.host]: { username: "alice", password: "s3cret:with:colons" } }) });
    const b = newStore();
    expect((await pullImage(b, `${proxy.host}/basic/redirect:1`, {}, viaProxy)).id).toBe(id);
    expect(proxy.requests.filter((r) => r.path !== "/v2/").every((r) => r.authorization?.startsWith("Basic "))).toBe(true);
    expect(proxy.storage).toHaveLength(2);
    expect(proxy.storage.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });
});

describe("Bearer token flow", () => {
  let registry: RegistryServer;
  let tokens: TokenServer;
  beforeAll(async () => {
    tokens = await startTokenServer({ bob: "hunter2" });
    registry = await startRegistry({ kind: "token", realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certPem: tokens.certPem });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    expect(registriesRunning()).toBe(0);
  });

  const withBob = (): ReturnType<typeof readConfig> => readConfig({ DOCKER_CONFIG: scratch("bento-no-config-"), BENTO_REGISTRY_AUTH: JSON.stringify({ [registry.host]: { username: "bob", password: "hunter2" } }) });

  it("gets tokens for the scopes it needs, with the credentials, and pushes and pulls", async () => {
    const a = newStore();
    const ref = `${registry.host}/bearer/app:1`;
    const id = await makeImage(a, ref);
    tokens.requests.length = 0;
    await pushImage(a, ref, {}, withBob());
    expect(tokens.requests).toContainEqual({ scopes: ["repository:bearer/app:pull,push"], user: "bob", service: tokens.service });
    const b = newStore();
    tokens.requests.length = 0;
    expect((await pullImage(b, ref, {}, withBob())).id).toBe(id);
    expect(tokens.requests).toEqual([{ scopes: ["repository:bearer/app:pull"], user: "bob", service: tokens.service }]);
  });

  it("asks for pull on the source repository too when it mounts", async () => {
    const a = newStore();
    const src = `${registry.host}/bearer/src:1`;
    await makeImage(a, src);
    await pushImage(a, src, {}, withBob());
    const dst = `${registry.host}/bearer/dst:1`;
    await a.tag(src, dst);
    tokens.requests.length = 0;
    const pushed = await pushImage(a, dst, {}, withBob());
    expect(pushed).toMatchObject({ mountedBlobs: 2, uploadedBlobs: 0 });
    expect(tokens.requests.map((r) => [...r.scopes].sort())).toContainEqual(["repository:bearer/dst:pull,push", "repository:bearer/src:pull"]);
  });

  it("anonymous: pulls when the token service grants pull, 401 with the login hint when it does not", async () => {
    const a = newStore();
    const ref = `${registry.host}/bearer/anon:1`;
    const id = await makeImage(a, ref);
    await pushImage(a, ref, {}, withBob());
    const anonymous = readConfig({ DOCKER_CONFIG: scratch("bento-no-config-") });
    const err = await pullImage(newStore(), ref, {}, anonymous).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(err).toMatchObject({ status: 401, hadCredentials: false, host: registry.host });
    expect((err as Error).message).toMatch(/requires authentication.*log in: add "auths"/);
    tokens.anonymousPull = true;
    cleanups.push(() => (tokens.anonymousPull = false));
    expect((await pullImage(newStore(), ref, {}, anonymous)).id).toBe(id);
    const denied = await pushImage(a, ref, {}, anonymous).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(RegistryAuthError);
  });

  it("a wrong password fails at the token service", async () => {
    const cfg = readConfig({ DOCKER_CONFIG: scratch("bento-no-config-"), BENTO_REGISTRY_AUTH: JSON.stringify({ [registry.host]: { username: "bob", password: "nope" } }) });
    const err = await pullImage(newStore(), `${registry.host}/bearer/app:1`, {}, cfg).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_REGISTRY_AUTH", status: 401, hadCredentials: true });
    expect((err as Error).message).toContain("wrong user name or password");
  });
});
