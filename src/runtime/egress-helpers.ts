/**
 * The user-mode network helpers that give a container's own network namespace a route out, as
 * podman's `--network=slirp4netns|pasta` does: which exist on this machine and what to install.
 * Both open /dev/net/tun inside the namespace, so rootless they also need that node open to the user.
 */
import { HostUnsupportedError } from "../errors.js";
import { findExecutable } from "./executables.js";
import { TUN_FIX, tunDeviceOpen } from "./host-devices.js";
import { isRootless } from "./user-namespace.js";

/**
 * A helper that gives a container outbound access: `"slirp4netns"` (Debian package
 * `slirp4netns`, a user-mode TCP/IP stack) or `"pasta"` (package `passt`, which maps the
 * container's connections onto sockets of the host).
 *
 * @example
 * ```ts
 * const helper: EgressHelper = "pasta";
 * ```
 */
export type EgressHelper = "slirp4netns" | "pasta";

/** Every helper, in the order build RUN steps prefer them. */
export const egressHelpers: readonly EgressHelper[] = ["slirp4netns", "pasta"];

/** The Debian package that ships each helper. */
const packageOf: Record<EgressHelper, string> = { slirp4netns: "slirp4netns", pasta: "passt" };

/** The path of `helper` on this machine, or undefined when it is not installed. */
export function egressHelperPath(helper: EgressHelper): string | undefined {
  // The PATH a shell would search: the helper is run by the same lookup.
  return findExecutable(helper);
}

/** The command that installs `helper`. */
export function egressInstallFix(helper: EgressHelper): string {
  return `apt-get install ${packageOf[helper]}`;
}

/**
 * Why `helper` cannot give a container outbound access here (not installed, or rootless without
 * /dev/net/tun), with the fix; undefined when it can. `what` names who asked, for the message.
 */
export function egressUnavailable(helper: EgressHelper, what: string): HostUnsupportedError | undefined {
  if (egressHelperPath(helper) === undefined) {
    return new HostUnsupportedError(`${what} gets outbound network access through ${helper}, which is not installed; run: ${egressInstallFix(helper)}`);
  }
  if (isRootless() && !tunDeviceOpen()) {
    return new HostUnsupportedError(`${what} gets outbound network access through ${helper}, which needs /dev/net/tun, and that is not open to this user; ${TUN_FIX}`);
  }
  return undefined;
}
