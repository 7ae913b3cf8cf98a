/**
 * Runs one RUN step of an image build in a build container (DESIGN section 6): the parent's
 * layers as the overlay's lower directories, a fresh upper directory that becomes the new layer,
 * its own network namespace with outbound access by default (BuildKit's sandbox network), the
 * host's only for `RUN --network=host`. The build engine turns the
 * upper directory into a layer, then removes the container.
 */
import { isRootless } from "../runtime/user-namespace.js";
import { join } from "node:path";
import type { ImageConfig } from "../image/config.js";
import type { ExitStatus } from "../runtime/wait-status.js";
import { ContainerInstance } from "./instance.js";
import type { LogLine } from "../runtime/logs.js";
import { normalizeOptions } from "./options.js";

/** What a RUN step runs. */
export interface BuildStepSpec {
  /** The parent image's layer directories, top-first. */
  lowerDirs: string[];
  /** The parent's config at this step: Env, User, WorkingDir apply. */
  config: ImageConfig;
  argv: string[];
  /** Extra environment (build args in scope), added to the config's Env. */
  env?: Record<string, string>;
  /**
   * "default": its own network namespace with outbound access (slirp4netns), so services bound to
   * the host's loopback stay out of reach; "host": the host's network; "none": only lo.
   */
  network?: "default" | "host" | "none";
  /** Receives the step's output as it is written. */
  onOutput?: (line: LogLine) => void;
}

/** A finished RUN step; its upper directory is the step's changes in overlay form. */
export interface BuildStepResult extends ExitStatus {
  /** The overlay upper directory: the new layer's content (whiteouts as 0/0 devices). */
  upperDir: string;
  /** Everything the step wrote, interleaved. */
  output: string;
  /** Removes the build container and its directories. */
  remove(): Promise<void>;
}

/** Runs a RUN step to completion. */
export async function runBuildStep(spec: BuildStepSpec): Promise<BuildStepResult> {
  // Rootless, the step already runs with only the user's own rights, and slirp4netns needs
  // /dev/net/tun, which many hosts keep at 0600: the user's network is what it gets.
  const requested = spec.network ?? "default";
  const network = requested === "default" && isRootless() ? "host" : requested;
  const options = normalizeOptions({ entrypoint: spec.argv, command: [], env: spec.env ?? {}, network: network === "host" ? "host" : "none", ports: [], stopTimeoutMs: 1000 });
  if (network === "default") options.egress = true;
  const instance = await ContainerInstance.create(options, { lowerDirs: spec.lowerDirs, config: spec.config });
  try {
    await instance.launch();
    const follow = spec.onOutput
      ? (async () => {
          for await (const line of instance.followLogs()) spec.onOutput!(line);
        })()
      : Promise.resolve();
    const exit = await instance.wait();
    await follow;
    const output = await instance.logs();
    return { ...exit, upperDir: join(instance.spec.containerDir, "upper"), output, remove: () => instance.remove() };
  } catch (error) {
    await instance.remove();
    throw error;
  }
}
