/**
 * bento: build container images and run containers from TypeScript, with no Docker daemon.
 *
 * @packageDocumentation
 * @module bento
 */

// Errors
export { BentoError, InvalidOptionError, SystemCallError, StartupError, ContainerStateError, HostUnsupportedError } from "./errors.js";
export type { BentoErrorOptions, SystemCallErrorFields, StartupPhase, StartupErrorDetails } from "./errors.js";

// Images: the plan, the Dockerfile front end, the config, the build
// The build engine loads on the first build; until then stand-ins that load it are installed.
import "./builder/lazy-engine.js";
export { Image } from "./image/image.js";
export { BuildStepError, BuildContextError, BaseImageNotFoundError } from "./builder/errors.js";
export type { BuildOptions, BuildResult, BuildProgressEvent, BuildImageEvent, BuildOutputEvent, BuildStepDoneEvent, BuildStepEvent, RebuildCause, CommitOptions, FromArchiveOptions, BuildStepFailure, StepPosition } from "./builder/index.js";
export type { BuildWarningEvent, BuildCacheReport, CacheExportReport, CacheImportReport, CacheMode, CacheTarget } from "./builder/index.js";
export type { FromDockerfileOptions } from "./image/dockerfile-plan.js";
export type { FromHostOptions } from "./host/host-image.js";
export type { FromOptions, CopyOptions, AddOptions, RunOptions, HealthcheckOptions } from "./image/image-steps.js";
export { PLAN_VERSION } from "./image/plan.js";
export type { ImagePlan, ImageStep, ImageStepKind, ImageBase, CopySource, CommandLine, KeyValue, ArgDeclaration, Heredoc, RunMount, RunNetwork, SourceLocation } from "./image/plan.js";
export type {
  FromStep,
  ArgStep,
  EnvStep,
  WorkdirStep,
  CopyStep,
  AddStep,
  RunStep,
  UserStep,
  LabelStep,
  ExposeStep,
  VolumeStep,
  HealthcheckStep,
  ShellStep,
  StopSignalStep,
  OnbuildStep,
  EntrypointStep,
  CmdStep,
  MaintainerStep,
} from "./image/plan.js";
export type { EscapeToken } from "./image/shell-lexer.js";
export { toDockerfile } from "./image/dockerfile-printer.js";
export { parseDockerfile } from "./image/dockerfile.js";
export type { ParseDockerfileToPlanOptions } from "./image/dockerfile.js";
export { emptyImageConfig } from "./image/config.js";
export type { ImageConfig, HealthcheckConfig } from "./image/config.js";
export { imageConfigOf } from "./image/image-config-of.js";
export type { ImageConfigOfOptions, BaseConfigSource } from "./image/image-config-of.js";
export { containerArgv } from "./image/container-argv.js";
export type { ContainerArgvOverrides } from "./image/container-argv.js";
export { DockerfileSyntaxError, InvalidPlanError, ShellExpansionError } from "./image/errors.js";
export type { DockerfileErrorDetails } from "./image/errors.js";

// The store
export { Store } from "./registry/store.js";
export type { ImageStore } from "./store/image-store.js";
export type { StoreOptions, RemoveImageOptions, PruneImagesOptions, ExportOptions, WriteImageOptions } from "./registry/store.js";
export { ImageNotFoundError, InvalidReferenceError, ImageInUseError, ImageConflictError, DigestMismatchError, UnsafeArchiveError, InvalidArchiveError, StoreLockTimeoutError } from "./store/errors.js";
export type { PullOptions, PullResult } from "./registry/pull.js";
export type { PushOptions, PushResult } from "./registry/push.js";
export type { EnsureOptions } from "./registry/ensure.js";
export type { TransferProgress, ProgressListener } from "./registry/progress.js";
export type { PullPolicy } from "./config.js";
export { RegistryUnreachableError, RegistryAuthError, ManifestUnknownError, PlatformNotFoundError, RegistryError, PullForbiddenError } from "./registry/errors.js";
export { RegistryClient } from "./registry/client.js";
export type { RegistryClientOptions, FetchedManifest, ManifestHead, UploadOutcome } from "./registry/client.js";
export type {
  ImageSummary,
  ImageInspect,
  DiskUsage,
  UsageCount,
  RemoveResult,
  ImportResult,
  ArchiveFormat,
  LayerInfo,
  ResolvedImage,
  OciImageConfig,
  Descriptor,
  ImageManifest,
  Platform,
  OciImageConfigFields,
  ContainerConfig,
  HealthConfig,
  HistoryEntry,
  WriteImageInput,
  WrittenImage,
  BlobInfo,
} from "./store/types.js";
export type { ImageUsage } from "./store/image-usage.js";
export type { RecordedOwners, RecordedOwner } from "./store/layer-from-dir.js";

// Containers
export { Container } from "./container/container.js";
export { RunningContainer } from "./container/running-container.js";
export { StoppedContainer } from "./container/stopped-container.js";
export { AttachedContainer } from "./container/attached-container.js";
export type { ContainerOptions } from "./container/options.js";
export type { EgressHelper } from "./runtime/egress-helpers.js";
export type { ContainerFile } from "./container/start-files.js";
export type { SeccompOption } from "./runtime/seccomp/filter.js";
export type { DockerSeccompProfile, DockerSeccompRule, DockerSeccompArg, DockerSeccompFilter } from "./runtime/seccomp/profile.js";
export type { MountSpec, VolumeMount, BindMount, TmpfsMount, FileMount } from "./container/mounts.js";
export type { DnsOptions, UlimitSpec } from "./container/system-options.js";
export type { DeviceSpec } from "./container/device-options.js";
export type { ContainerNamespace } from "./container/namespace-options.js";
export type { ExecOptions, ExecResult, ExecTerminal } from "./container/exec.js";
export type { ConsoleSize } from "./container/terminal-options.js";
export type { AttachedTerminal } from "./container/terminal-attach.js";
export type { ContainerInspect } from "./container/inspect.js";
export type { LogLine, LogOptions } from "./runtime/logs.js";
export type { ResourceOptions } from "./runtime/limits.js";
export type { ExitStatus } from "./runtime/wait-status.js";
export type { CgroupStats, CgroupLimits } from "./runtime/cgroup/driver.js";

// Volumes and networks
export { Volume } from "./volume/volume.js";
export type { MachineContainer, MachineContainerExit, MachineContainerStatus } from "./runtime/machine-containers.js";
export type { VolumeOptions } from "./volume/volume.js";
export type { VolumeRecord } from "./volume/volume-store.js";
export { Network } from "./network/network.js";
export type { PortSpec } from "./network/port-spec.js";

// Waiting for containers to be ready
export { Wait } from "./wait/wait.js";
export { WaitTimeoutError } from "./wait/wait-timeout-error.js";
export type { WaitStrategy, WaitContext, WaitExecResult, HealthWatch } from "./wait/wait-strategy.js";
export type { LogWaitOptions } from "./wait/log-wait-strategy.js";
export type { HttpWaitOptions } from "./wait/http-wait-strategy.js";
export type { ExitWaitOptions } from "./wait/exit-wait-strategy.js";
export type { HealthState, HealthStatus, HealthcheckResult } from "./wait/healthcheck.js";
export type { LogConsumer } from "./wait/log-consumer.js";
export type { ContainerHealthcheck } from "./container/options.js";
export { ContainerView } from "./container/container-view.js";
export type { ImageLike } from "./container/image-source.js";

// Stacks and compose files
export { Stack } from "./stack/stack.js";
export type { ServiceDefinition, ServiceOptions, RestartPolicy, StackComposeOptions } from "./stack/stack.js";
export { RunningStack } from "./stack/running-stack.js";
export type { StackEvent, StackEventStatus, DownOptions, StackLogOptions } from "./stack/running-stack.js";
export type { UpOptions } from "./stack/up.js";
export { loadCompose } from "./stack/compose/load.js";
export type { LoadComposeOptions, ComposeText } from "./stack/compose/load.js";
export type { StackPlan, ServicePlan, DependencyCondition, DependencyPlan, BuildPlan, VolumeMountPlan, ServiceNetworkPlan, RestartPlan, NetworkPlan, VolumePlan, FileSourcePlan, FileMountPlan, LifecycleHookPlan } from "./stack/plan.js";
export { ComposeError, DependencyCycleError, UnsupportedComposeError, ServiceStartupError } from "./stack/errors.js";
export type { ComposeErrorCode, ComposeErrorLocation, UnsupportedKey, ServiceStartupErrorDetails } from "./stack/errors.js";
export { doctor } from "./runtime/doctor.js";
export type { DoctorCheck, DoctorReport } from "./runtime/doctor.js";
