/**
 * The running kernel's version, for the features bento uses only where the kernel has them
 * (seccomp profiles' minKernel, overlayfs's "volatile").
 */
import { release } from "node:os";

/** "5.15.0-91-generic" -> [5, 15]. */
export function kernelVersion(text: string): [number, number] {
  const [major = 0, minor = 0] = text.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return [major, minor];
}

/** True when `version` ([major, minor]) is at least `major.minor`. */
export function versionAtLeast(version: readonly [number, number], major: number, minor: number): boolean {
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

let running: [number, number] | undefined;

/** True when the running kernel is at least `major.minor`. */
export function kernelAtLeast(major: number, minor: number): boolean {
  running ??= kernelVersion(release());
  return versionAtLeast(running, major, minor);
}
