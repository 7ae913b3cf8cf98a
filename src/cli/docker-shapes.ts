/**
 * bento's records in the JSON shapes `docker inspect` prints, for the fields bento has: a
 * container (from its state dir and its store directory), an image, a volume. Fields docker has
 * and bento does not keep are left out rather than invented.
 */
import type { BoundPort } from "../network/port-proxy.js";
import type { ContainerRecord } from "../container/container-record.js";
import type { MachineContainer } from "../runtime/machine-containers.js";
import type { ImageInspect } from "../store/types.js";
import type { VolumeRecord } from "../volume/volume-store.js";

/** Docker's `State.Status` for a bento container: a left-behind one is "dead", as docker names a container it could not clean. */
function dockerStatus(c: MachineContainer): string {
  if (c.status === "running") return "running";
  if (c.status === "left-behind") return "dead";
  return "exited";
}

/** Docker's `NetworkSettings.Ports`: every exposed or published port, with its host bindings or null. */
function portMap(exposed: readonly string[], bound: readonly BoundPort[] | undefined): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of exposed) ports[key] = null;
  for (const b of bound ?? []) {
    ports[`${b.container}/${b.protocol}`] = [
      { HostIp: "127.0.0.1", HostPort: String(b.hostPort) },
      { HostIp: "::1", HostPort: String(b.hostPort) },
    ];
  }
  return ports;
}

/**
 * A container as `docker container inspect` shows it.
 *
 * @example
 * ```ts
 * const c = findMachineContainer("db");
 * const { record, ports } = readContainerRecord(c.containerDir);
 * console.log(JSON.stringify(dockerContainer(c, record, ports).State.Status));
 * ```
 */
export function dockerContainer(c: MachineContainer, record: Partial<ContainerRecord>, ports: readonly BoundPort[] | undefined) {
  const running = c.status === "running";
  const [path, ...args] = record.argv ?? [];
  const limits = record.limits ?? {};
  return {
    Id: c.id,
    Created: c.createdAt?.toISOString() ?? null,
    Path: path ?? "",
    Args: args,
    State: {
      Status: dockerStatus(c),
      Running: running,
      Paused: false,
      Restarting: false,
      OOMKilled: c.exit?.oomKilled ?? false,
      Dead: c.status === "left-behind",
      Pid: running ? (c.pids[0] ?? 0) : 0,
      // Known for a detached container once its helper recorded the end of its run.
      ...(c.exit ? { ExitCode: c.exit.exitCode, FinishedAt: c.exit.finishedAt.toISOString() } : {}),
    },
    Image: c.imageId ?? "",
    Name: `/${c.name}`,
    Driver: "overlay",
    Platform: "linux",
    LogPath: c.logPath,
    HostConfig: {
      NetworkMode: record.networkMode ?? "none",
      ReadonlyRootfs: record.readonlyRootfs ?? false,
      Init: record.init ?? false,
      Memory: limits.memoryBytes ?? 0,
      NanoCpus: limits.cpuQuotaUs !== undefined && limits.cpuPeriodUs ? Math.round((limits.cpuQuotaUs / limits.cpuPeriodUs) * 1e9) : 0,
      CpuShares: limits.cpuShares ?? 0,
      PidsLimit: limits.pidsMax ?? null,
      BlkioWeight: limits.ioWeight ?? 0,
    },
    Mounts: (record.mounts ?? [])
      .filter((m) => m.kind !== "file")
      .map((m) => ({
        Type: m.kind,
        ...(m.kind === "volume" ? { Name: m.name } : {}),
        Source: m.kind === "bind" ? m.source : "",
        Destination: m.target,
        RW: !m.readonly,
      })),
    Config: {
      Hostname: record.hostname ?? c.id.slice(0, 12),
      User: record.user ?? "",
      ExposedPorts: Object.fromEntries((record.exposedPorts ?? []).map((p) => [p, {}])),
      Env: record.env ?? [],
      Cmd: record.argv ?? [],
      WorkingDir: record.cwd ?? "/",
      Labels: c.labels,
      ...(record.stopSignal === undefined ? {} : { StopSignal: record.stopSignal }),
    },
    NetworkSettings: { Ports: running ? portMap(record.exposedPorts ?? [], ports) : {} },
    Bento: { OwnerPid: c.ownerPid ?? null, OwnerAlive: c.ownerAlive, Status: c.status },
  };
}

/**
 * An image as `docker image inspect` shows it.
 *
 * @example
 * ```ts
 * console.log(dockerImage(await Store.default().inspect("alpine:3.20")).RootFS.Layers.length);
 * ```
 */
export function dockerImage(image: ImageInspect) {
  const raw = image.rawConfig;
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: [...new Set(image.repoTags.map((t) => `${t.replace(/:[^:/]+$/, "")}@${image.manifestDigest}`))],
    Comment: "",
    Created: image.created ?? null,
    Author: raw.author ?? "",
    Config: image.config,
    Architecture: image.architecture,
    Os: image.os,
    ...(raw.variant === undefined ? {} : { Variant: raw.variant }),
    Size: image.sizeBytes,
    RootFS: { Type: "layers", Layers: image.layers.map((l) => l.diffId) },
  };
}

/**
 * A volume as `docker volume inspect` shows it.
 *
 * @example
 * ```ts
 * console.log(dockerVolume(record, volumeDataDir(record.name)).Mountpoint);
 * ```
 */
export function dockerVolume(volume: VolumeRecord, mountpoint: string) {
  return { CreatedAt: volume.createdAt, Driver: "local", Labels: volume.labels, Mountpoint: mountpoint, Name: volume.name, Options: {}, Scope: "local" };
}
