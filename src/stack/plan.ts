/**
 * `StackPlan`: what a compose file describes, normalized into plain JSON-safe data. Service fields
 * that `Container` understands are a `ContainerOptions`; the rest (dependencies, named and bind
 * volumes, networks, restart policy, profiles) sit next to it. Every compose key bento does not
 * honour is listed in `unsupported` with its path instead of being dropped.
 */
import type { ContainerOptions } from "../container/options.js";
import type { UnsupportedKey } from "./errors.js";

/**
 * What a dependent waits for: compose's `service_started`, `service_healthy`, `service_completed_successfully`.
 *
 * @example
 * ```ts
 * new Stack().service("web", app, { dependsOn: { db: "healthy", migrate: "completed", cache: "started" } });
 * ```
 */
export type DependencyCondition = "started" | "healthy" | "completed";

/**
 * One `depends_on` entry.
 *
 * @example
 * ```ts
 * plan.services.web.dependsOn; // { db: { condition: "healthy", required: true } }
 * ```
 */
export interface DependencyPlan {
  /** What the dependent waits for before it starts. */
  condition: DependencyCondition;
  /** false: a missing or disabled dependency is skipped instead of being an error. */
  required: boolean;
}

/**
 * A `build:` section: a Dockerfile built into the service's image.
 *
 * @example
 * ```ts
 * plan.services.web.build; // { context: "/src/app", dockerfile: "/src/app/Dockerfile.prod", args: { VERSION: "2" }, target: "prod" }
 * ```
 */
export interface BuildPlan {
  /** The build context, an absolute path (it need not exist until the stack starts). */
  context: string;
  /** The Dockerfile, an absolute path (default `<context>/Dockerfile`); absent with `dockerfileInline`. */
  dockerfile?: string;
  /** The Dockerfile's text, from `dockerfile_inline`. */
  dockerfileInline?: string;
  /** `--build-arg` values. */
  args: Record<string, string>;
  /** The stage to build. */
  target?: string;
}

/**
 * A named, anonymous or bind mount of a service (tmpfs mounts are in `options.mounts`).
 *
 * @example
 * ```ts
 * plan.services.db.volumes[0]; // { type: "volume", source: "pgdata", target: "/var/lib/postgresql/data", readOnly: false, path: "services.db.volumes[0]" }
 * ```
 */
export interface VolumeMountPlan {
  /** Discriminant: a named or anonymous volume, or a bind mount of a host path. */
  type: "volume" | "bind";
  /** The volume's key in `volumes` (named), an absolute host path (bind), or absent (anonymous). */
  source?: string;
  /** The absolute path in the container. */
  target: string;
  /** Mounted read-only (`:ro`, `read_only: true`). */
  readOnly: boolean;
  /** Bind mounts: create the host directory when it is missing (the short syntax does, as compose). */
  createHostPath?: boolean;
  /** The compose path of the entry, such as `services.db.volumes[0]`. */
  path: string;
}

/**
 * A service's membership of one network.
 *
 * @example
 * ```ts
 * plan.services.db.networks; // { backend: { aliases: ["database"] } }
 * ```
 */
export interface ServiceNetworkPlan {
  /** Extra names the service is reachable by on this network. */
  aliases: string[];
}

/**
 * The restart policy while the stack runs: `no`; `on-failure` (after a non-zero exit, at most
 * `maxRetries` times when given); `always` and `unless-stopped` (after any exit; the same here, as
 * a stack does not outlive the process that started it).
 *
 * @example
 * ```ts
 * plan.services.worker.restart; // { policy: "on-failure", maxRetries: 3 }
 * ```
 */
export type RestartPlan =
  | {
      /** Discriminant: never restart, or restart after any exit. */
      policy: "no" | "always" | "unless-stopped";
    }
  | {
      /** Discriminant: restart after a non-zero exit. */
      policy: "on-failure";
      /** The most restarts (`on-failure:3`); absent means no limit. */
      maxRetries?: number;
    };

/**
 * A top-level secret or config: where its bytes come from (exactly one of the three).
 *
 * @example
 * ```ts
 * plan.secrets.db_password; // { file: "/src/shop/secrets/db_password.txt" }
 * plan.configs.app;         // { content: "debug=true\n" }
 * ```
 */
export interface FileSourcePlan {
  /** `file:` an absolute host path, read when the stack starts. */
  file?: string;
  /** `environment:` the variable's name (its value is in `content`). */
  environment?: string;
  /** `content:` (or the value of `environment`): the bytes as text. */
  content?: string;
}

/**
 * A secret or config mounted into a service: a read-only file.
 *
 * @example
 * ```ts
 * plan.services.db.files[0]; // { kind: "secret", source: "db_password", target: "/run/secrets/db_password", mode: 0o444, path: "services.db.secrets[0]" }
 * ```
 */
export interface FileMountPlan {
  /** Discriminant: from the top-level `secrets` or `configs`. */
  kind: "secret" | "config";
  /** Its key in the top-level `secrets` or `configs`. */
  source: string;
  /** The absolute path in the container (secrets default to `/run/secrets/<source>`, configs to `/<source>`). */
  target: string;
  /** Its permission bits (default 0o444). */
  mode: number;
  /** Its owner (default the container's user). */
  uid?: number;
  /** Its group (default the container user's group). */
  gid?: number;
  /** The compose path of the entry, such as `services.db.secrets[0]`. */
  path: string;
}

/**
 * A `post_start` or `pre_stop` hook: a command run with exec in the service's container, after it
 * starts (before its dependents see it started) or before it stops.
 *
 * @example
 * ```ts
 * plan.services.db.postStart[0]; // { command: ["sh", "-c", "echo ready > /tmp/ready"], privileged: false, environment: {} }
 * ```
 */
export interface LifecycleHookPlan {
  /** The command, exec form. */
  command: string[];
  /** Its user (default the container's). */
  user?: string;
  /** Every capability and no seccomp filter for it, as `docker exec --privileged`. */
  privileged: boolean;
  /** Its working directory (default the container's). */
  workingDir?: string;
  /** Added to the container's environment. */
  environment: Record<string, string>;
}

/**
 * One service.
 *
 * @example
 * ```ts
 * const web = loadCompose("compose.yaml").services.web;
 * console.log(web.image, web.options.ports, Object.keys(web.dependsOn));
 * ```
 */
export interface ServicePlan {
  /** The image reference (after interpolation); with `build`, the name the built image gets. */
  image?: string;
  /** The `build:` section, when the service's image is built from a Dockerfile. */
  build?: BuildPlan;
  /** Everything `new Container(image, options)` takes: command, env, ports, limits, tmpfs, healthcheck... */
  options: ContainerOptions;
  /** Dependencies by service name. */
  dependsOn: Record<string, DependencyPlan>;
  /** Named, anonymous and bind mounts. */
  volumes: VolumeMountPlan[];
  /** Networks by name (`default` when the file names none and network_mode is unset). */
  networks: Record<string, ServiceNetworkPlan>;
  /** `network_mode: service:x`: the service whose network namespace this one enters (x starts first). */
  sharesNetworkOf?: string;
  /** `pid: service:x`: the service whose PID namespace this one enters. */
  sharesPidOf?: string;
  /** `ipc: service:x`: the service whose IPC namespace (and /dev/shm) this one enters. */
  sharesIpcOf?: string;
  /** `expose:` ports (`"8080/tcp"`): reachable by other services, not published on the host. */
  expose: string[];
  /** The `restart:` policy; `{ policy: "no" }` when the file sets none. */
  restart: RestartPlan;
  /** The service runs only when one of these profiles is active (empty: always). */
  profiles: string[];
  /** Its `secrets` and `configs`, as read-only files. */
  files: FileMountPlan[];
  /** `post_start` hooks, in order. */
  postStart?: LifecycleHookPlan[];
  /** `pre_stop` hooks, in order. */
  preStop?: LifecycleHookPlan[];
}

/**
 * A top-level network.
 *
 * @example
 * ```ts
 * plan.networks.backend; // { name: "shop_backend", external: false, labels: {} }
 * ```
 */
export interface NetworkPlan {
  /** Its name: `name:`, else `<project>_<key>` (the key itself when external). */
  name: string;
  /** `external: true`: made outside the project; `up()` refuses such networks, as bento networks live only as long as their stack. */
  external: boolean;
  /** `labels:` as written; bento networks carry no labels, so they are not applied. */
  labels: Record<string, string>;
}

/**
 * A top-level volume.
 *
 * @example
 * ```ts
 * plan.volumes.pgdata; // { name: "shop_pgdata", external: false, labels: {} }
 * ```
 */
export interface VolumePlan {
  /** Its name: `name:`, else `<project>_<key>` (the key itself when external). */
  name: string;
  /** `external: true`: made outside the project; `up()` requires it to exist and `down()` never removes it. */
  external: boolean;
  /** `labels:` given to the volume when `up()` creates it. */
  labels: Record<string, string>;
}

/**
 * A loaded compose project.
 *
 * @example
 * ```ts
 * const plan = loadCompose("./compose.yaml", { env: {} });
 * plan.services.web.options.ports; // [{ container: 80, host: 8080, protocol: "tcp" }]
 * plan.unsupported;                // [{ path: "services.web.cap_add", reason: "..." }]
 * ```
 */
export interface StackPlan {
  /** The format version of this plan; always 1. */
  version: 1;
  /** The project name (`name:`, the projectName option, or the directory's name). */
  name: string;
  /** The directory relative paths are resolved against. */
  projectDir: string;
  /** Services, in file order. */
  services: Record<string, ServicePlan>;
  /** Top-level networks by key; a `default` network is added when services use it. */
  networks: Record<string, NetworkPlan>;
  /** Top-level named volumes by key. */
  volumes: Record<string, VolumePlan>;
  /** Top-level secrets by key. */
  secrets: Record<string, FileSourcePlan>;
  /** Top-level configs by key. */
  configs: Record<string, FileSourcePlan>;
  /** Compose keys bento does not honour, with their paths; `up()` refuses to run them. */
  unsupported: UnsupportedKey[];
  /** Things compose would warn about (unset variables, the obsolete `version:`). */
  warnings: string[];
}
