/**
 * What a container runs from: the directories of its root filesystem (top-first) and its image
 * config. Plans that only set config over a root filesystem run as they are; the rest is built.
 */
import { existsSync, statSync } from "node:fs";
import { InvalidOptionError } from "../errors.js";
import type { ImageConfig } from "../image/config.js";
import { imageConfigOf } from "../image/image-config-of.js";
import type { ImagePlan } from "../image/plan.js";

/**
 * Anything with a plan: an `Image`, or an object that makes one.
 *
 * @example
 * ```ts
 * const base: ImageLike = { toPlan: () => ({ version: 1, steps: [{ kind: "from", base: { type: "ref", ref: "alpine:3.20" } }] }) };
 * new Stack().service("app", base);
 * ```
 */
export interface ImageLike {
  /** The image's plan, as JSON-safe data. */
  toPlan(): ImagePlan;
}

/** A resolved image: what the runtime mounts and the config it runs with. */
export interface ImageSource {
  lowerDirs: string[];
  config: ImageConfig;
  /** The image id when it came from the store. */
  imageId?: string;
}

/** A hook the image build engine installs to turn any plan into layers (see src/builder). */
export type PlanResolver = (plan: ImagePlan) => Promise<ImageSource>;

let buildResolver: PlanResolver | undefined;

/** Installs the resolver for plans that need building (called by the build engine module). */
export function setPlanResolver(resolver: PlanResolver): void {
  buildResolver = resolver;
}

const configOnlyKinds = new Set(["arg", "env", "workdir", "user", "label", "expose", "volume", "healthcheck", "shell", "stopSignal", "onbuild", "entrypoint", "cmd", "maintainer"]);

/** Resolves an Image to its root filesystem layers and config. */
export async function resolveImage(image: ImageLike): Promise<ImageSource> {
  const plan = image.toPlan();
  const [first, ...rest] = plan.steps;
  if (first?.kind === "from" && first.base.type === "rootfs" && rest.every((s) => configOnlyKinds.has(s.kind))) {
    const dir = first.base.path;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new InvalidOptionError("image", `the root filesystem "${dir}" does not exist or is not a directory; pass an existing directory to Image.fromRootfs()`);
    }
    return { lowerDirs: [dir], config: imageConfigOf(plan) };
  }
  if (buildResolver === undefined) {
    throw new InvalidOptionError("image", "this image needs a build (it has a base image, RUN, COPY or ADD steps), and no build engine is loaded");
  }
  return buildResolver(plan);
}
