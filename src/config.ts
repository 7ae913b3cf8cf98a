/**
 * The one place bento reads its environment. Everything else takes a {@link BentoConfig}.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** bento's settings, read from the environment. */
export interface BentoConfig {
  /** Where images, containers' files and volumes live (`BENTO_HOME`). */
  home: string;
  /** Where runtime state (locks, pids) lives (`BENTO_RUNTIME_DIR`). */
  runtimeDir: string;
  /** Subsystems to log debug output for (`BENTO_DEBUG=runtime,build,net`, or `*`). */
  debug: Set<string>;
  /** Multiplier for every startup timeout (`BENTO_TIMEOUT_SCALE`). */
  timeoutScale: number;
  /**
   * Which cgroup driver to use (`BENTO_CGROUP`): "auto" (detect), "v1", or "v2" — on a hybrid
   * host "v2" uses only the unified hierarchy (no limits there, but placement, kill-all and
   * events), as a pure cgroup v2 host would.
   */
  cgroup: "auto" | "v1" | "v2";
  /**
   * Which overlay makes a container's root filesystem (`BENTO_OVERLAY`): "kernel" (overlayfs,
   * inside the user namespace rootless), "fuse-overlayfs" (the FUSE program, which must be
   * installed and /dev/fuse open to the user), or "auto" (the default: the kernel's, and
   * fuse-overlayfs rootless where the kernel refuses overlayfs in a user namespace and
   * fuse-overlayfs can run).
   */
  overlay: "auto" | "kernel" | "fuse-overlayfs";
  /**
   * Rootless: a cgroup2 directory the user owns, under which containers' groups are made
   * (`BENTO_CGROUP_PARENT`); limits need one. Unset: the systemd user service's, when there is one.
   */
  cgroupParent: string | undefined;
  /**
   * When `store.ensure()` pulls (`BENTO_PULL_POLICY`): "missing" (the default) pulls images the
   * store lacks, "always" asks the registry every time (only new layers are fetched), "never"
   * uses the store only.
   */
  pullPolicy: PullPolicy;
  /**
   * Mirrors tried before a registry (`BENTO_REGISTRY_MIRRORS`, comma-separated): a bare URL
   * mirrors docker.io, as Docker's `registry-mirrors`; `host=url` mirrors another registry.
   */
  registryMirrors: Map<string, string[]>;
  /**
   * Registry credentials by host (`BENTO_REGISTRY_AUTH`, JSON such as
   * `{"localhost:5000":{"username":"u","password":"p"}}`, or `{"host":{"auth":"<base64 u:p>"}}`);
   * they win over the Docker config file.
   */
  registryAuth: Map<string, RegistryCredential>;
  /** Hosts reached over plain HTTP besides loopback ones (`BENTO_INSECURE_REGISTRIES`, comma-separated). */
  insecureRegistries: Set<string>;
  /** The Docker config file read for credentials: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  dockerConfigFile: string;
  /**
   * Registry build caches every build reads (`BENTO_CACHE_FROM`, comma-separated references),
   * unless the build names its own `cacheFrom`.
   */
  cacheFrom: string[];
  /**
   * The registry build cache every build writes (`BENTO_CACHE_TO`: a reference, optionally
   * followed by `,mode=max`), unless the build names its own `cacheTo`.
   */
  cacheTo: { ref: string; mode: "min" | "max" } | undefined;
}

/**
 * When `store.ensure()` pulls: "missing" pulls images the store lacks, "always" asks the registry
 * every time (only new layers are fetched), "never" uses the store only. Set per call with
 * {@link EnsureOptions.policy}, or for the process with `BENTO_PULL_POLICY` (default "missing").
 *
 * @example
 * ```ts
 * const policy: PullPolicy = "never";
 * await Store.default().ensure("alpine:3.20", { policy }); // PullForbiddenError when the store lacks it
 * ```
 */
export type PullPolicy = "always" | "missing" | "never";

/** A user name and password (or token) for a registry. */
export interface RegistryCredential {
  username: string;
  password: string;
}

/** Reads bento's settings from `env` (the process environment by default). */
export function readConfig(env: NodeJS.ProcessEnv = process.env): BentoConfig {
  const isRoot = process.getuid?.() === 0;
  const dataHome = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  const runtimeBase = isRoot ? "/run" : env.XDG_RUNTIME_DIR || join("/tmp", `bento-${process.getuid?.() ?? "user"}`);
  const scale = env.BENTO_TIMEOUT_SCALE === undefined ? 1 : Number(env.BENTO_TIMEOUT_SCALE);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`BENTO_TIMEOUT_SCALE: "${env.BENTO_TIMEOUT_SCALE}" is not a positive number; set it to e.g. 2, or unset it`);
  }
  const cgroup = env.BENTO_CGROUP || "auto";
  if (cgroup !== "auto" && cgroup !== "v1" && cgroup !== "v2") {
    throw new Error(`BENTO_CGROUP: "${cgroup}" is not a cgroup driver; use auto, v1 or v2, or unset it`);
  }
  const overlay = env.BENTO_OVERLAY || "auto";
  if (overlay !== "auto" && overlay !== "kernel" && overlay !== "fuse-overlayfs") {
    throw new Error(`BENTO_OVERLAY: "${overlay}" is not an overlay mode; use auto, kernel or fuse-overlayfs, or unset it`);
  }
  const pullPolicy = env.BENTO_PULL_POLICY || "missing";
  if (pullPolicy !== "always" && pullPolicy !== "missing" && pullPolicy !== "never") {
    throw new Error(`BENTO_PULL_POLICY: "${pullPolicy}" is not a pull policy; use always, missing or never, or unset it`);
  }
  return {
    cgroup,
    cgroupParent: env.BENTO_CGROUP_PARENT || undefined,
    overlay,
    pullPolicy,
    registryMirrors: parseMirrors(env.BENTO_REGISTRY_MIRRORS ?? ""),
    registryAuth: parseRegistryAuth(env.BENTO_REGISTRY_AUTH ?? ""),
    insecureRegistries: new Set(splitList(env.BENTO_INSECURE_REGISTRIES ?? "")),
    cacheFrom: splitList(env.BENTO_CACHE_FROM ?? ""),
    cacheTo: (env.BENTO_CACHE_TO ?? "").trim() === "" ? undefined : parseCacheTarget(env.BENTO_CACHE_TO as string, "BENTO_CACHE_TO"),
    dockerConfigFile: join(env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker"), "config.json"),
    home: env.BENTO_HOME || join(dataHome, "bento"),
    runtimeDir: env.BENTO_RUNTIME_DIR || join(runtimeBase, "bento"),
    debug: new Set(
      (env.BENTO_DEBUG ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    timeoutScale: scale,
  };
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Parses a registry build cache target: `ref`, `ref,mode=min|max`, or buildx's
 * `type=registry,ref=REF,mode=max`. `source` names the setting in errors (`BENTO_CACHE_TO`).
 *
 * @example
 * ```ts
 * parseCacheTarget("localhost:5000/app:cache,mode=max", "--cache-to"); // { ref: "localhost:5000/app:cache", mode: "max" }
 * ```
 */
export function parseCacheTarget(text: string, source: string): { ref: string; mode: "min" | "max" } {
  const fix = "use a registry reference such as registry.example.com/app:buildcache, optionally followed by ,mode=max";
  let ref: string | undefined;
  let mode: "min" | "max" = "min";
  for (const part of splitList(text)) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? "ref" : part.slice(0, eq);
    const value = eq < 0 ? part : part.slice(eq + 1);
    if (key === "ref" && ref === undefined && value !== "") ref = value;
    else if (key === "mode" && (value === "min" || value === "max")) mode = value;
    else if (key !== "type" || value !== "registry") throw new Error(`${source}: "${part}" is not understood; ${fix}`);
  }
  if (ref === undefined) throw new Error(`${source}: no reference in "${text}"; ${fix}`);
  return { ref, mode };
}

function parseMirrors(text: string): Map<string, string[]> {
  const mirrors = new Map<string, string[]>();
  for (const entry of splitList(text)) {
    const named = /^([^=/]+)=(.*)$/.exec(entry);
    const host = named?.[1] ?? "docker.io";
    const url = named?.[2] ?? entry;
    if (!/^https?:\/\/[^/]+\/?$/.test(url)) {
      throw new Error(`BENTO_REGISTRY_MIRRORS: "${entry}" is not a mirror; use http(s)://host[:port] (for docker.io) or registry=http(s)://host[:port], comma-separated`);
    }
    mirrors.set(host, [...(mirrors.get(host) ?? []), url.replace(/\/$/, "")]);
  }
  return mirrors;
}

function parseRegistryAuth(text: string): Map<string, RegistryCredential> {
  const auth = new Map<string, RegistryCredential>();
  if (text.trim() === "") return auth;
  const fix = `set it to JSON such as {"localhost:5000":{"username":"me","password":"secret"}}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`BENTO_REGISTRY_AUTH: not valid JSON; ${fix}`);
  }
  const table = (parsed as { auths?: unknown })?.auths ?? parsed;
  if (typeof table !== "object" || table === null || Array.isArray(table)) throw new Error(`BENTO_REGISTRY_AUTH: not a JSON object; ${fix}`);
  for (const [host, value] of Object.entries(table as Record<string, unknown>)) {
    const v = (value ?? {}) as { username?: unknown; password?: unknown; auth?: unknown };
    if (typeof v.username === "string" && typeof v.password === "string") {
      auth.set(host, { username: v.username, password: v.password });
    } else if (typeof v.auth === "string" && Buffer.from(v.auth, "base64").toString("utf8").includes(":")) {
      const plain = Buffer.from(v.auth, "base64").toString("utf8");
      const colon = plain.indexOf(":");
      auth.set(host, { username: plain.slice(0, colon), password: plain.slice(colon + 1) });
    } else {
      throw new Error(`BENTO_REGISTRY_AUTH: the entry for "${host}" needs "username" and "password", or "auth" (base64 of user:password); ${fix}`);
    }
  }
  return auth;
}

let current: BentoConfig | undefined;

/** The process-wide configuration, read once. */
export function config(): BentoConfig {
  current ??= readConfig();
  return current;
}

/**
 * Where the host looks for programs and shared libraries (`PATH`, `LD_LIBRARY_PATH`), for
 * `Image.fromHost`, which finds programs and libraries as the host's shell and loader would.
 */
export function hostSearchPaths(env: NodeJS.ProcessEnv = process.env): { path: string[]; libraryPath: string[] } {
  const list = (text: string | undefined): string[] => (text ?? "").split(":").filter((p) => p !== "");
  return { path: list(env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), libraryPath: list(env.LD_LIBRARY_PATH) };
}
