/**
 * What a stack is made of, as frozen data: `Stack` (stack.ts) builds it and `upStack` (up.ts)
 * starts it, so both import it from here rather than from each other.
 */
import type { ImageLike } from "../container/image-source.js";
import type { ContainerOptions } from "../container/options.js";
import type { UnsupportedKey } from "./errors.js";
import type { DependencyPlan, FileMountPlan, FileSourcePlan, LifecycleHookPlan, NetworkPlan, RestartPlan, ServiceNetworkPlan, StackPlan, VolumeMountPlan, VolumePlan } from "./plan.js";

/**
 * Where a compose service's image comes from, resolved at `up()` (build contexts need not exist before).
 *
 * @example
 * ```ts
 * const source: ComposeImageSource = { ref: "myapp:dev", build: { context: "/src/app", args: {} } };
 * ```
 */
export interface ComposeImageSource {
  ref?: string;
  build?: StackPlan["services"][string]["build"];
}

/** @internal One service of a stack, frozen. */
export interface StackService {
  readonly name: string;
  readonly image: ImageLike | ComposeImageSource;
  readonly options: ContainerOptions;
  readonly dependsOn: Readonly<Record<string, DependencyPlan>>;
  readonly restart: RestartPlan;
  readonly profiles: readonly string[];
  /** Compose named, anonymous and bind mounts (code-first services use `options.mounts`). */
  readonly volumes: readonly VolumeMountPlan[];
  /** Compose networks; undefined: the stack's own network. */
  readonly networks: Readonly<Record<string, ServiceNetworkPlan>> | undefined;
  /** Compose `network_mode: service:x`: the service whose network namespace this one enters. */
  readonly sharesNetworkOf?: string;
  /** Compose `pid: service:x` and `ipc: service:x`. */
  readonly sharesPidOf?: string;
  readonly sharesIpcOf?: string;
  /** Compose keys of this service that bento does not honour. */
  readonly unsupported: readonly UnsupportedKey[];
  /** Compose secrets and configs, mounted as read-only files. */
  readonly files: readonly FileMountPlan[];
  /** Compose `post_start` and `pre_stop` hooks. */
  readonly hooks?: { readonly postStart: readonly LifecycleHookPlan[]; readonly preStop: readonly LifecycleHookPlan[] };
}

/** @internal What a stack is made of. */
export interface StackState {
  readonly name: string;
  readonly services: ReadonlyMap<string, StackService>;
  /** From a compose file: its networks, volumes and the top-level keys bento does not honour. */
  readonly compose?: {
    networks: Record<string, NetworkPlan>;
    volumes: Record<string, VolumePlan>;
    secrets: Record<string, FileSourcePlan>;
    configs: Record<string, FileSourcePlan>;
    unsupported: readonly UnsupportedKey[];
  };
  readonly images: Readonly<Record<string, ImageLike>>;
  readonly profiles: readonly string[];
}
