/**
 * The third-party packages that are costly to load (ajv, yaml, tar), and the Node built-ins that
 * only some calls need and that are not in Node's startup snapshot (zlib, http, worker_threads,
 * child_process, net, crypto), loaded on first use rather than at `import "bento"`: a test file
 * that only starts containers never loads the compose validator nor gzip, and importing bento
 * stays close to the cost of bare Node. They are required synchronously (each is CommonJS or
 * built in), so the sync API that uses them stays sync.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A getter that requires `id` on its first call and returns the same module after. */
function onFirstUse<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}

/** The `tar` package. */
export const tarPackage = onFirstUse<typeof import("tar")>("tar");
/** The `yaml` package. */
export const yamlPackage = onFirstUse<typeof import("yaml")>("yaml");
/** The `ajv` package (draft-07 validator). */
export const ajvPackage = onFirstUse<typeof import("ajv")>("ajv");
/** ajv's 2020-12 validator. */
export const ajv2020Package = onFirstUse<typeof import("ajv/dist/2020.js")>("ajv/dist/2020.js");
/** Node's `zlib` (layer compression). */
export const zlibModule = onFirstUse<typeof import("node:zlib")>("node:zlib");
/** Node's `http` (the HTTP wait strategy). */
export const httpModule = onFirstUse<typeof import("node:http")>("node:http");
/** Node's `worker_threads`. */
export const workerThreadsModule = onFirstUse<typeof import("node:worker_threads")>("node:worker_threads");
/** Node's `child_process` (newuidmap, the egress helpers, credential helpers). */
export const childProcessModule = onFirstUse<typeof import("node:child_process")>("node:child_process");
/** Node's `net` (the port proxy, the shim's sockets, address checks). */
export const netModule = onFirstUse<typeof import("node:net")>("node:net");
/** Node's `crypto` (digests, random names). */
export const cryptoModule = onFirstUse<typeof import("node:crypto")>("node:crypto");
