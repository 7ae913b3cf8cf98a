/**
 * bento: build container images and run containers from TypeScript, with no Docker daemon.
 *
 * @packageDocumentation
 */
export { BentoError, InvalidOptionError, SystemCallError, StartupError, ContainerStateError, HostUnsupportedError } from "./errors.js";
export type { BentoErrorOptions, SystemCallErrorFields, StartupPhase, StartupErrorDetails } from "./errors.js";
export { Image } from "./image/image.js";
export { Container } from "./container/container.js";
export { RunningContainer } from "./container/running-container.js";
export { StoppedContainer } from "./container/stopped-container.js";
export type { ContainerOptions } from "./container/options.js";
export type { MountSpec, VolumeMount, BindMount, TmpfsMount } from "./container/mounts.js";
export { Volume } from "./volume/volume.js";
export { Network } from "./network/network.js";
export type { PortSpec } from "./network/port-spec.js";
export type { VolumeOptions } from "./volume/volume.js";
export type { VolumeRecord } from "./volume/volume-store.js";
export type { ExecOptions, ExecResult } from "./container/instance.js";
export type { ContainerInspect } from "./container/inspect.js";
export type { LogLine, LogOptions } from "./container/logs.js";
export type { ResourceOptions } from "./runtime/limits.js";
export type { ExitStatus } from "./runtime/wait-status.js";
export type { CgroupStats } from "./runtime/cgroup/driver.js";
