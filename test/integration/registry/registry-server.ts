/**
 * A real registry (Debian's `docker-registry`, distribution v2.8) on 127.0.0.1 for the registry
 * tests, started as a child process with its config and storage in a temp dir; plus a token
 * server for the Bearer flow and a counting proxy that can redirect blob GETs to "storage" on
 * another origin, as registries backed by S3 do.
 *
 * The tests fail (not skip) when `docker-registry`, `htpasswd` (apache2-utils) or `openssl` is
 * missing: CI installs them (.ci/run).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createSign, randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REGISTRY_BIN = "docker-registry";

/** Throws a clear error naming the Debian package when a tool is missing. */
export function requireTool(program: string, args: string[], debianPackage: string): void {
  try {
    execFileSync(program, args, { stdio: "pipe" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`the registry tests need "${program}": apt-get install ${debianPackage} (.ci/run installs it)`);
    }
  }
}

/** A running registry. */
export interface RegistryServer {
  /** `127.0.0.1:<port>`, as references name it. */
  host: string;
  port: number;
  /** The registry's storage root (`docker/registry/v2/...` below it). */
  dataDir: string;
  /** Stops the registry and removes its temp dir. */
  stop(): Promise<void>;
}

/** How the registry authenticates. */
export type RegistryAuth = { kind: "htpasswd"; users: Record<string, string> } | { kind: "token"; realm: string; service: string; issuer: string; certPem: string };

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts `docker-registry serve` on 127.0.0.1 with a free port (it reports the port it got).
 */
export async function startRegistry(auth?: RegistryAuth): Promise<RegistryServer> {
  requireTool(REGISTRY_BIN, ["--version"], "docker-registry");
  const dir = mkdtempSync(join(tmpdir(), "bento-registry-"));
  const dataDir = join(dir, "data");
  let authYaml = "";
  if (auth?.kind === "htpasswd") {
    requireTool("htpasswd", ["-nbB", "x", "y"], "apache2-utils");
    const lines = Object.entries(auth.users).map(([user, password]) => execFileSync("htpasswd", ["-nbB", user, password], { encoding: "utf8" }).trim());
    writeFileSync(join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: bento-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth?.kind === "token") {
    writeFileSync(join(dir, "token-ca.pem"), auth.certPem);
    authYaml = `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${join(dir, "token-ca.pem")}\n`;
  }
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dataDir}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n  secret: bento-test-secret\n${authYaml}`,
  );
  const child = spawn(REGISTRY_BIN, ["serve", join(dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let log = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`docker-registry did not report its port in 20 s:\n${log}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString("utf8");
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code}) before listening:\n${log}`));
    });
  });
  return {
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the registry process is still alive (for leak checks). */
export function registriesRunning(): number {
  return [...running].filter((c) => c.exitCode === null && c.signalCode === null).length;
}

/** The file holding a blob in the registry's filesystem storage. */
export function registryBlobPath(server: RegistryServer, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return join(server.dataDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** A token server for distribution's Bearer flow, signing RS256 JWTs with a throw-away cert. */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPem: string;
  /** Every token request: the scopes asked for and the Basic user, if any. */
  requests: Array<{ scopes: string[]; user: string | undefined; service: string | null }>;
  /** Whether callers without credentials get pull access (read at each request). */
  anonymousPull: boolean;
  close(): Promise<void>;
}

/**
 * Grants `users` (user -> password) every action they ask for; anonymous callers get pull only
 * when `anonymousPull` is set, and nothing otherwise (so the registry answers 401).
 */
export async function startTokenServer(users: Record<string, string>, options: { anonymousPull?: boolean } = {}): Promise<TokenServer> {
  requireTool("openssl", ["version"], "openssl");
  const dir = mkdtempSync(join(tmpdir(), "bento-token-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=bento-test-token"], { stdio: "pipe" });
    const keyPem = readFileSync(join(dir, "key.pem"), "utf8");
    const certPem = readFileSync(join(dir, "cert.pem"), "utf8");
    const certDer = new X509Certificate(certPem).raw.toString("base64");
    const service = "bento-test-registry";
    const issuer = "bento-test-issuer";
    const requests: TokenServer["requests"] = [];
    let result: TokenServer | undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const scopes = url.searchParams.getAll("scope");
      let user: string | undefined;
      const header = req.headers.authorization;
      if (header?.startsWith("Basic ")) {
        const [u, ...rest] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
        if (users[u as string] !== rest.join(":")) {
          requests.push({ scopes, user: u, service: url.searchParams.get("service") });
          res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: "wrong user name or password" }));
          return;
        }
        user = u;
      }
      requests.push({ scopes, user, service: url.searchParams.get("service") });
      const access = scopes.flatMap((s) => {
        const [type, ...middle] = s.split(":");
        const actions = (middle.pop() ?? "").split(",");
        const granted = user !== undefined ? actions : result?.anonymousPull ? actions.filter((a) => a === "pull") : [];
        return granted.length ? [{ type, name: middle.join(":"), actions: granted }] : [];
      });
      const now = Math.floor(Date.now() / 1000);
      const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
      const head = b64({ typ: "JWT", alg: "RS256", x5c: [certDer] });
      const claims = b64({ iss: issuer, sub: user ?? "", aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access });
      const signature = createSign("RSA-SHA256").update(`${head}.${claims}`).sign(keyPem).toString("base64url");
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: `${head}.${claims}.${signature}`, expires_in: 300 }));
    });
    const port = await listen(server);
    result = { realm: `http://127.0.0.1:${port}/token`, service, issuer, certPem, requests, anonymousPull: options.anonymousPull ?? false, close: () => close(server) };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One request the proxy saw. */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

/** A counting proxy in front of a registry. */
export interface CountingProxy {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Requests for the registry API. */
  requests: SeenRequest[];
  /** Requests that followed a blob redirect to "storage" (on `localhost:<port>`, another origin). */
  storage: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Forwards every request to `target` (keeping the Host header, so the registry's Location
 * headers point back here) and records it. With `redirectBlobs`, blob GETs get a 307 to
 * `http://localhost:<port>/_storage/...`, which is served from the registry with
 * `storageAuthorization` (storage does its own auth; the client must not send the registry's).
 */
export async function startCountingProxy(target: string, options: { redirectBlobs?: boolean; storageAuthorization?: string } = {}): Promise<CountingProxy> {
  const requests: SeenRequest[] = [];
  const storage: SeenRequest[] = [];
  const [targetHost, targetPort] = target.split(":") as [string, string];
  let port = 0;
  const forward = (req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string | string[] | undefined>): void => {
    const out = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path, headers }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  };
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    const seen = { method: req.method ?? "", path, authorization: req.headers.authorization };
    if (path.startsWith("/_storage/")) {
      storage.push(seen);
      const headers = { ...req.headers, host: `127.0.0.1:${port}` };
      delete headers.authorization;
      if (options.storageAuthorization) headers.authorization = options.storageAuthorization;
      forward(req, res, path.slice("/_storage".length), headers);
      return;
    }
    requests.push(seen);
    if (options.redirectBlobs && req.method === "GET" && /^\/v2\/.+\/blobs\/sha256:[a-f0-9]{64}$/.test(path)) {
      res.writeHead(307, { location: `http://localhost:${port}/_storage${path}` }).end();
      return;
    }
    forward(req, res, path, req.headers);
  });
  port = await listen(server);
  return { host: `127.0.0.1:${port}`, requests, storage, close: () => close(server) };
}
