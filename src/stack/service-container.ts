/**
 * A stack service's container: its image (an Image, a replacement, a Dockerfile build or a
 * reference) and its container options in the stack (name, labels, network, volume, secret and
 * config mounts, wait, deadline). `up()` (up.ts) starts what these describe.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ImageLike } from "../container/image-source.js";
import type { FileMount, MountSpec } from "../container/mounts.js";
import type { ContainerOptions } from "../container/options.js";
import type { RunningContainer } from "../container/running-container.js";
import { InvalidOptionError } from "../errors.js";
import { Image } from "../image/image.js";
import type { Network } from "../network/network.js";
import type { Volume } from "../volume/volume.js";
import type { WaitStrategy } from "../wait/wait-strategy.js";
import type { FileMountPlan } from "./plan.js";
import type { ComposeImageSource, StackService, StackState } from "./stack-state.js";

/** True for an Image, or anything else with a plan (a service given as code rather than compose). */
export function isImageLike(value: unknown): value is ImageLike {
  return typeof value === "object" && value !== null && typeof (value as ImageLike).toPlan === "function";
}

/** The image of a service: an Image, a replacement from `images`, a Dockerfile build, or a reference to pull. */
export function imageOf(state: StackState, service: StackService): ImageLike {
  if (isImageLike(service.image)) return service.image;
  const source = service.image as ComposeImageSource;
  if (source.ref !== undefined && state.images[source.ref] !== undefined) return state.images[source.ref]!;
  if (source.build !== undefined) {
    const b = source.build;
    const options = { context: b.context, buildArgs: { ...b.args }, ...(b.target === undefined ? {} : { target: b.target }) };
    return b.dockerfileInline !== undefined ? Image.fromDockerfile({ dockerfile: b.dockerfileInline, ...options }) : Image.fromDockerfile(b.dockerfile ?? path.join(b.context, "Dockerfile"), options);
  }
  return Image.from(source.ref!);
}

/** The stack's networks and volumes, made before any service starts. */
export interface Made {
  /** By compose network key; `default` is the stack's own network. */
  networks: Map<string, Network>;
  /** Anonymous volumes by the compose path of their entry (`services.web.volumes[1]`). */
  anonymous: Map<string, Volume>;
  named: Volume[];
}

/** The network a service joins: the one place a stack attaches its containers to networks. */
function attachNetwork(state: StackState, service: StackService, made: Made, options: ContainerOptions, started: ReadonlyMap<string, RunningContainer>): ContainerOptions {
  if (service.sharesNetworkOf !== undefined) return { ...options, network: { container: started.get(service.sharesNetworkOf)! } };
  if (options.network !== undefined) return options;
  const key = service.networks === undefined ? "default" : Object.keys(service.networks)[0];
  if (key === undefined) return { ...options, network: "none" };
  const aliases = [service.name, ...(service.networks?.[key]?.aliases ?? []), ...(options.aliases ?? [])];
  return { ...options, network: made.networks.get(key)!, aliases: [...new Set(aliases)] };
}

/** A secret or config as a file mount: its bytes read now, from its file, variable or content. */
function fileMountOf(state: StackState, f: FileMountPlan): FileMount {
  const source = (f.kind === "secret" ? state.compose!.secrets : state.compose!.configs)[f.source]!;
  let content: string | Uint8Array;
  if (source.file === undefined) content = source.content ?? "";
  else {
    try {
      content = readFileSync(source.file);
    } catch (error) {
      throw new InvalidOptionError(`${f.kind}s.${f.source}.file`, `cannot read "${source.file}" (${(error as NodeJS.ErrnoException).code ?? "EIO"}); it must exist while the stack starts`);
    }
  }
  return { content, target: f.target, mode: f.mode, ...(f.uid === undefined ? {} : { uid: f.uid }), ...(f.gid === undefined ? {} : { gid: f.gid }) };
}

/** The container options of a service in this stack: its own, plus name, labels, network, mounts, wait and deadline. */
export function containerOptionsOf(state: StackState, service: StackService, made: Made, wait: WaitStrategy, startupTimeoutMs: number | undefined, started: ReadonlyMap<string, RunningContainer>): ContainerOptions {
  const mounts: MountSpec[] = [...(service.options.mounts ?? [])];
  for (const v of service.volumes) {
    if (v.type === "bind") {
      if (v.createHostPath && !existsSync(v.source!)) mkdirSync(v.source!, { recursive: true });
      mounts.push({ bind: v.source!, target: v.target, readonly: v.readOnly });
    } else if (v.source === undefined) {
      mounts.push({ volume: made.anonymous.get(v.path)!, target: v.target, readonly: v.readOnly });
    } else {
      mounts.push({ volume: state.compose!.volumes[v.source]!.name, target: v.target, readonly: v.readOnly });
    }
  }
  for (const f of service.files) mounts.push(fileMountOf(state, f));
  const options: ContainerOptions = {
    ...service.options,
    name: service.options.name ?? `${state.name}-${service.name}-1`,
    labels: { ...service.options.labels, "dev.bento.stack": state.name, "dev.bento.stack.service": service.name },
    wait,
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(startupTimeoutMs === undefined ? {} : { startupTimeoutMs }),
  };
  // pid and ipc of another service: its container, started first (an implicit dependency).
  if (service.sharesPidOf !== undefined) options.pid = { container: started.get(service.sharesPidOf)! };
  if (service.sharesIpcOf !== undefined) options.ipc = { container: started.get(service.sharesIpcOf)! };
  return attachNetwork(state, service, made, options, started);
}

/** The named volumes a service mounts (for `down({ removeVolumes })`). */
export function namedVolumesOf(state: StackState, service: StackService): string[] {
  const names: string[] = [];
  for (const m of service.options.mounts ?? []) {
    if (typeof m === "string") {
      const src = m.split(":")[0] ?? "";
      if (!path.isAbsolute(src) && !src.startsWith(".") && m.includes(":")) names.push(src);
    } else if ("volume" in m) {
      names.push(typeof m.volume === "string" ? m.volume : m.volume.name);
    }
  }
  for (const v of service.volumes) {
    if (v.type === "volume" && v.source !== undefined && !state.compose!.volumes[v.source]!.external) names.push(state.compose!.volumes[v.source]!.name);
  }
  return names;
}
