/**
 * The argv a container runs, from its image config and the caller's overrides, with Docker's rules
 * (the daemon's config merge and the Dockerfile reference's ENTRYPOINT x CMD table).
 */
import { InvalidOptionError } from "../errors.js";
import type { ImageConfig } from "./config.js";

/** Overrides of a container's command, as `docker run --entrypoint` and trailing arguments give. */
export interface ContainerArgvOverrides {
  /** Replaces the image's ENTRYPOINT. Non-empty: the image's CMD is dropped too, unless `command` is given. `[]`: no entrypoint, the image's CMD is kept. */
  entrypoint?: readonly string[];
  /** Replaces the image's CMD (the arguments after the image name in `docker run`). `[]` means "not given". */
  command?: readonly string[];
}

/**
 * The effective argv of a container: ENTRYPOINT followed by CMD (or the overrides). A shell-form
 * ENTRYPOINT is `[shell, "-c", text]`, so CMD's words only become the script's `$0`, `$1`... and are
 * in effect ignored, as Docker's table says. Throws when there is nothing to run.
 *
 * @example
 * ```ts
 * containerArgv({ ...config, Entrypoint: ["/bin/httpd", "-f"], Cmd: ["-p", "80"] }, {}); // ["/bin/httpd", "-f", "-p", "80"]
 * containerArgv(config, { command: ["-p", "8080"] }); // ["/bin/httpd", "-f", "-p", "8080"]
 * containerArgv(config, { entrypoint: ["sh"] }); // ["sh"]: a new entrypoint drops the image's CMD
 * ```
 */
export function containerArgv(config: Pick<ImageConfig, "Entrypoint" | "Cmd">, overrides: ContainerArgvOverrides = {}): string[] {
  let entrypoint = overrides.entrypoint;
  let cmd = overrides.command;
  // moby's config merge: the image's CMD and ENTRYPOINT apply only when no entrypoint is given, and
  // its CMD only when no command is given.
  if (entrypoint === undefined || entrypoint.length === 0) {
    if (cmd === undefined || cmd.length === 0) cmd = config.Cmd ?? [];
    if (entrypoint === undefined) entrypoint = config.Entrypoint ?? [];
  }
  const argv = [...entrypoint, ...(cmd ?? [])];
  if (argv.length === 0) {
    throw new InvalidOptionError("command", "the image has no ENTRYPOINT or CMD and no command was given; pass command (or entrypoint)");
  }
  return argv;
}
