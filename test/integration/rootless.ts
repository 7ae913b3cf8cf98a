/**
 * What the rootless run asserts where the root run uses a root-only feature: limits need a
 * delegated cgroup v2 subtree, which this machine (hybrid v1, no delegation) does not give.
 */
import { expect } from "vitest";

/** The error a container with limits gets without a delegated cgroup subtree. */
export const rootlessLimitsError = /rootless limits need a delegated cgroup v2 subtree.*BENTO_CGROUP_PARENT/s;

/** Asserts that `starting` fails with the rootless limits error. */
export async function expectRootlessLimitsError(starting: Promise<unknown>): Promise<void> {
  await expect(starting).rejects.toThrow(rootlessLimitsError);
}
