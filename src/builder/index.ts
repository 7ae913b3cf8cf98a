/**
 * The build engine's public surface. Importing this module installs the plan resolver through
 * which `new Container(image).start()` builds an Image that needs building (a base image, RUN,
 * COPY or ADD steps) in `Store.default()` and runs the result: its layers become the container's
 * lower directories and its config supplies entrypoint, cmd, env, workdir, user, exposed ports,
 * stop signal and healthcheck.
 */
import { setPlanResolver } from "../container/image-source.js";
import { ImageStore } from "../store/image-store.js";
import type { ImageConfig } from "../image/config.js";
import type { ImagePlan } from "../image/plan.js";
import { installBuildEngine } from "../image/build-engine.js";
import { buildPlan } from "./builder.js";
import { importArchiveImage } from "./from-archive.js";
import { commitContainer } from "./commit.js";

export { buildPlan } from "./builder.js";
export type { BuildOptions, BuildResult, FromArchiveOptions } from "../image/build-engine.js";
export { commitContainer } from "./commit.js";
export type { CommitOptions, CommitParent } from "../image/build-engine.js";
export { BaseImageNotFoundError, BuildContextError, BuildStepError, type BuildStepFailure, type StepPosition } from "./errors.js";
export { importArchiveImage } from "./from-archive.js";
export type { BuildImageEvent, BuildOutputEvent, BuildProgressEvent, BuildStepDoneEvent, BuildStepEvent, BuildWarningEvent, RebuildCause } from "../image/build-progress.js";
export type { BuildCacheReport, CacheExportReport, CacheImportReport, CacheMode, CacheTarget } from "../image/build-cache-types.js";

/** What a container runs from a built image. */
export interface BuiltImageSource {
  /** The image's layer directories, top-first (overlayfs lowerdir order). */
  lowerDirs: string[];
  /** Its runtime config. */
  config: ImageConfig;
  /** Its id (`sha256:` of the config). */
  imageId: string;
}

/**
 * Builds `plan` in `Store.default()` and returns what a container runs: the image's layer
 * directories (top-first), its config and its id.
 *
 * @example
 * ```ts
 * const { lowerDirs, config, imageId } = await resolveBuiltImage(image.toPlan());
 * ```
 */
export async function resolveBuiltImage(plan: ImagePlan): Promise<BuiltImageSource> {
  const store = ImageStore.default();
  const built = await buildPlan(plan, { store });
  return { lowerDirs: await store.lowerDirs(built.layers), config: built.config, imageId: built.id };
}

setPlanResolver(resolveBuiltImage);
installBuildEngine({ build: buildPlan, importArchive: importArchiveImage, commit: commitContainer });
