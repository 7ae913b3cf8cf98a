/**
 * Registry credentials: `BENTO_REGISTRY_AUTH` first, then the Docker config file
 * (`~/.docker/config.json` or `$DOCKER_CONFIG/config.json`): `credHelpers[host]`, `auths[host]`
 * (`auth` is base64 of `user:password`; `identitytoken` is an OAuth2 refresh token), then
 * `credsStore`. Helpers are Docker's `docker-credential-<name> get` programs.
 */
import { promises as fs } from "node:fs";
import { childProcessModule } from "../deps.js";
import type { BentoConfig } from "../config.js";
import { InvalidOptionError } from "../errors.js";
import { isErrno } from "../store/native-fs.js";

/** What a registry needs to authenticate the caller. */
export interface Credential {
  /** The user name (empty with an identity token from a helper). */
  username: string;
  /** The password or access token. */
  password: string;
  /** An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint instead of the password. */
  identityToken?: string;
  /** Where it came from, for messages: `BENTO_REGISTRY_AUTH`, the config file, a helper. */
  source: string;
}

/** The key Docker files docker.io credentials under. */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
const HELPER_TIMEOUT_MS = 30_000;

/**
 * The host a credentials key names: `https://index.docker.io/v1/` -> `docker.io`,
 * `http://localhost:5000` -> `localhost:5000`.
 */
export function normalizeAuthKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

async function readDockerConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return {};
    throw new InvalidOptionError(path, `cannot read the Docker config file: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as DockerConfigFile) : {};
  } catch (e) {
    throw new InvalidOptionError(path, `the Docker config file is not valid JSON (${(e as Error).message}); fix it, or point DOCKER_CONFIG at another directory`);
  }
}

/**
 * Finds the credentials for a registry host (as in a reference: `docker.io`, `localhost:5000`),
 * or undefined for anonymous access.
 *
 * @example
 * ```ts
 * const cred = await credentialsFor("localhost:5000", config());
 * ```
 */
export async function credentialsFor(host: string, cfg: BentoConfig): Promise<Credential | undefined> {
  const want = normalizeAuthKey(host);
  for (const [key, cred] of cfg.registryAuth) {
    if (normalizeAuthKey(key) === want) return { ...cred, source: "BENTO_REGISTRY_AUTH" };
  }
  const file = await readDockerConfig(cfg.dockerConfigFile);
  const serverUrl = want === "docker.io" ? DOCKER_HUB_KEY : want;
  for (const [key, helper] of Object.entries(file.credHelpers ?? {})) {
    if (normalizeAuthKey(key) === want) return runHelper(helper, serverUrl);
  }
  for (const [key, entry] of Object.entries(file.auths ?? {})) {
    if (normalizeAuthKey(key) !== want || entry === null || typeof entry !== "object") continue;
    const source = `${cfg.dockerConfigFile} auths["${key}"]`;
    if (entry.identitytoken) return { username: entry.username ?? "", password: "", identityToken: entry.identitytoken, source };
    if (typeof entry.auth === "string" && entry.auth !== "") {
      const plain = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = plain.indexOf(":");
      if (colon < 0) throw new InvalidOptionError(cfg.dockerConfigFile, `auths["${key}"].auth is not base64 of "user:password"; fix it (echo -n user:password | base64)`);
      return { username: plain.slice(0, colon), password: plain.slice(colon + 1), source };
    }
    if (typeof entry.username === "string" && typeof entry.password === "string") return { username: entry.username, password: entry.password, source };
  }
  if (file.credsStore) return runHelper(file.credsStore, serverUrl);
  return undefined;
}

/** Runs `docker-credential-<name> get`; "not found" (any failure with that text) is no credentials. */
async function runHelper(name: string, serverUrl: string): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr, error } = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((done) => {
    const child = childProcessModule().spawn(program, ["get"], { stdio: ["pipe", "pipe", "pipe"], timeout: HELPER_TIMEOUT_MS });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.on("error", (e) => done({ code: null, stdout: out, stderr: err, error: e }));
    child.on("close", (c) => done({ code: c, stdout: out, stderr: err }));
    child.stdin.on("error", () => {});
    child.stdin.end(serverUrl);
  });
  if (error) {
    throw new InvalidOptionError("credHelpers", `the Docker config names the credential helper "${name}", but ${program} cannot be run (${error.message}); install it, or remove it from the Docker config`);
  }
  const text = `${stdout}${stderr}`.trim();
  if (code !== 0) {
    if (/not found/i.test(text)) return undefined;
    throw new InvalidOptionError("credHelpers", `${program} get ${serverUrl} failed (exit ${code}): ${text.slice(0, 300)}`);
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new InvalidOptionError("credHelpers", `${program} get ${serverUrl} printed something other than JSON: ${stdout.slice(0, 200)}`);
  }
  const source = `credential helper ${program}`;
  if (parsed.Username === "<token>") return { username: "", password: "", identityToken: parsed.Secret ?? "", source };
  return { username: parsed.Username ?? "", password: parsed.Secret ?? "", source };
}
