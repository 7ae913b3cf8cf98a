/**
 * The seccomp program of a container: its profile resolved for its capabilities, compiled by the
 * addon once per (profile, capabilities) and kept for the life of the process, so a start only
 * copies bytes into its plan (start time stays as it was without seccomp; see bench/).
 */
import { InvalidOptionError } from "../../errors.js";
import { compileSeccomp } from "../../native/seccomp.js";
import { capabilityNames } from "../capabilities.js";
import { defaultSeccompProfile } from "./default-profile.js";
import { type DockerSeccompProfile, resolveSeccompProfile } from "./profile.js";

/**
 * A container's seccomp setting: `"default"` (Docker's allowlist), `"unconfined"` (no filter; it
 * grants the container every system call its capabilities allow) or a Docker-format profile.
 *
 * @example
 * ```ts
 * const seccomp: SeccompOption = "unconfined"; // e.g. for a container that runs its own sandbox
 * await new Container(image, { seccomp }).start();
 * ```
 */
export type SeccompOption = "default" | "unconfined" | DockerSeccompProfile;

const compiled = new Map<string, string>();

/** The hex form of the filter program for `option` and `capabilities`; "" for unconfined. */
export function seccompProgram(option: SeccompOption, capabilities: bigint): string {
  if (option === "unconfined") return "";
  const key = `${capabilities}:${option === "default" ? "default" : JSON.stringify(option, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`;
  let hex = compiled.get(key);
  if (hex === undefined) {
    const profile = option === "default" ? defaultSeccompProfile : option;
    hex = compileSeccomp(resolveSeccompProfile("seccomp", profile, capabilityNames(capabilities))).program.toString("hex");
    compiled.set(key, hex);
  }
  return hex;
}

/** Checks `seccomp` as given to a constructor: the profile is resolved (not compiled) so errors come early. */
export function checkSeccompOption(value: unknown): SeccompOption {
  if (value === "default" || value === "unconfined") return value;
  if (typeof value === "string") {
    throw new InvalidOptionError("seccomp", `"${value}" is not a seccomp setting; use "default", "unconfined" or a Docker profile object (JSON.parse of its file)`);
  }
  resolveSeccompProfile("seccomp", value as DockerSeccompProfile, []);
  return value as DockerSeccompProfile;
}
