/**
 * What the rootless run asserts where the root run uses a root-only feature: limits need a
 * delegated cgroup v2 subtree, which this machine (hybrid v1, no delegation) does not give, and
 * users other than root need a subordinate id range.
 */
import { expect } from "vitest";
import { idMapping, isRootless } from "../../src/runtime/user-namespace.js";

/** The error a container with limits gets without a delegated cgroup subtree. */
export const rootlessLimitsError = /rootless limits need a delegated cgroup v2 subtree.*BENTO_CGROUP_PARENT/s;

/** Asserts that `starting` fails with the rootless limits error. */
export async function expectRootlessLimitsError(starting: Promise<unknown>): Promise<void> {
  await expect(starting).rejects.toThrow(rootlessLimitsError);
}

/** True in a rootless run without a subordinate id range: a container holds only id 0. */
export const onlyRootInContainers = isRootless() && idMapping().kind === "single";

/** The error a container user or exec user other than 0 gets there. */
export const unmappedUserError = /only id 0 exists in a container; run it as root .*subordinate id range/s;
