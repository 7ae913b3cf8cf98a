/**
 * Runs one RUN step of an image build in a build container (DESIGN section 6): the parent's
 * layers as the overlay's lower directories, a fresh upper directory that becomes the new layer,
 * its own network namespace with outbound access by default (BuildKit's sandbox network), the
 * host's only for `RUN --network=host`. The build engine turns the
 * upper directory into a layer, then removes the container.
 */
import { TUN_FIX, tunDeviceOpen } from "../runtime/host-devices.js";
import { isRootless } from "../runtime/user-namespace.js";
import { egressHelperPath, egressHelpers, egressInstallFix, type EgressHelper } from "../runtime/egress-helpers.js";
import { HostUnsupportedError } from "../errors.js";
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
   * "default": its own network namespace with outbound access (slirp4netns, else pasta), so services bound to
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

let noticed = false;

/**
 * Whether a RUN step can have outbound access of its own. slirp4netns opens /dev/net/tun inside
 * the step's network namespace; rootless, that needs the node open to this user, as udev's
 * default rules make it (mode 0666). Where the host keeps it at 0600, the step gets only its
 * loopback, never the host's network (whose 127.0.0.1 services it must not reach), and a notice
 * says so once.
 */
function egressPossible(): boolean {
  if (!isRootless() || tunDeviceOpen()) return true;
  if (!noticed) {
    noticed = true;
    process.stderr.write(`bento: rootless build RUN steps have no outbound network here: /dev/net/tun is not open to this user (slirp4netns and pasta need it); ${TUN_FIX}\n`);
  }
  return false;
}

/**
 * The helper that gives RUN steps their route out: slirp4netns where installed (what RUN steps
 * always used), else pasta. With neither, the step fails naming both packages.
 */
function runStepHelper(): EgressHelper {
  const helper = egressHelpers.find((h) => egressHelperPath(h) !== undefined);
  if (helper === undefined) {
    throw new HostUnsupportedError(`build RUN steps get outbound network access through slirp4netns or pasta, and neither is installed; run: ${egressInstallFix("slirp4netns")} (or ${egressInstallFix("pasta")}), or use RUN --network=host`);
  }
  return helper;
}

/** Runs a RUN step to completion. */
export async function runBuildStep(spec: BuildStepSpec): Promise<BuildStepResult> {
  const requested = spec.network ?? "default";
  const network = requested === "default" && !egressPossible() ? "none" : requested;
  const options = normalizeOptions({ entrypoint: spec.argv, command: [], env: spec.env ?? {}, network: network === "host" ? "host" : "none", ports: [], stopTimeoutMs: 1000 });
  if (network === "default") options.egress = runStepHelper();
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
