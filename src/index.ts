/**
 * bento: build container images and run containers from TypeScript, with no Docker daemon.
 *
 * @packageDocumentation
 */
export { BentoError, InvalidOptionError, SystemCallError, StartupError, ContainerStateError, HostUnsupportedError } from "./errors.js";
export type { BentoErrorOptions, SystemCallErrorFields, StartupPhase, StartupErrorDetails } from "./errors.js";
