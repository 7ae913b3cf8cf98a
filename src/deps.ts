/**
 * The third-party packages that are costly to load (ajv, yaml, tar), and the Node built-ins that
 * only some calls need and that are not in Node's startup snapshot (zlib, http, worker_threads,
 * child_process, net, crypto),
 * loaded on first use rather than at `import "bento"`: a test file that only starts containers
 * never loads the compose validator nor gzip, and importing bento stays close to the cost of bare
 * Node. They are required synchronously (each is CommonJS or built in), so the sync API that uses
 * them stays sync.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

type TarPackage = typeof import("tar");
type YamlPackage = typeof import("yaml");
type AjvPackage = typeof import("ajv");
type Ajv2020Package = typeof import("ajv/dist/2020.js");
type ZlibModule = typeof import("node:zlib");
type HttpModule = typeof import("node:http");
type WorkerThreadsModule = typeof import("node:worker_threads");
type ChildProcessModule = typeof import("node:child_process");
type NetModule = typeof import("node:net");
type CryptoModule = typeof import("node:crypto");

let tar: TarPackage | undefined;
let yaml: YamlPackage | undefined;
let ajv: AjvPackage | undefined;
let ajv2020: Ajv2020Package | undefined;
let zlib: ZlibModule | undefined;
let http: HttpModule | undefined;
let workerThreads: WorkerThreadsModule | undefined;
let childProcess: ChildProcessModule | undefined;
let net: NetModule | undefined;
let crypto: CryptoModule | undefined;

/** The `tar` package. */
export function tarPackage(): TarPackage {
  return (tar ??= require("tar") as TarPackage);
}

/** The `yaml` package. */
export function yamlPackage(): YamlPackage {
  return (yaml ??= require("yaml") as YamlPackage);
}

/** The `ajv` package (draft-07 validator). */
export function ajvPackage(): AjvPackage {
  return (ajv ??= require("ajv") as AjvPackage);
}

/** ajv's 2020-12 validator. */
export function ajv2020Package(): Ajv2020Package {
  return (ajv2020 ??= require("ajv/dist/2020.js") as Ajv2020Package);
}

/** Node's `zlib` (layer compression). */
export function zlibModule(): ZlibModule {
  return (zlib ??= require("node:zlib") as ZlibModule);
}

/** Node's `http` (the HTTP wait strategy). */
export function httpModule(): HttpModule {
  return (http ??= require("node:http") as HttpModule);
}

/** Node's `worker_threads`. */
export function workerThreadsModule(): WorkerThreadsModule {
  return (workerThreads ??= require("node:worker_threads") as WorkerThreadsModule);
}

/** Node's `child_process` (newuidmap, slirp4netns, credential helpers). */
export function childProcessModule(): ChildProcessModule {
  return (childProcess ??= require("node:child_process") as ChildProcessModule);
}

/** Node's `net` (the port proxy, the shim's sockets, address checks). */
export function netModule(): NetModule {
  return (net ??= require("node:net") as NetModule);
}

/** Node's `crypto` (digests, random names). */
export function cryptoModule(): CryptoModule {
  return (crypto ??= require("node:crypto") as CryptoModule);
}
