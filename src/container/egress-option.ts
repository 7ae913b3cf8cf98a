/**
 * `network: "slirp4netns" | "pasta"`: checked when the container is made, so a missing helper (or
 * a detach that would outlive it) fails before anything exists.
 */
import { InvalidOptionError } from "../errors.js";
import { egressHelpers, egressUnavailable, type EgressHelper } from "../runtime/egress-helpers.js";

/** The egress helper `network` names, or undefined when it names none. */
export function egressOption(network: unknown, detach: unknown): EgressHelper | undefined {
  const helper = egressHelpers.find((h) => h === network);
  if (helper === undefined) return undefined;
  const unavailable = egressUnavailable(helper, `a container with network "${helper}"`);
  if (unavailable) throw unavailable;
  if (detach === true) {
    throw new InvalidOptionError("detach", `a container with network "${helper}" cannot outlive this process (its ${helper} runs in it); use network "none" or "host", or leave detach out`);
  }
  return helper;
}
