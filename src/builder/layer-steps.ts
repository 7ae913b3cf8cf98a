/**
 * The steps of a stage that make a layer from a container or a directory: RUN (a build
 * container on the parent's layers) and a WORKDIR whose directory the image lacks.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { runBuildStep } from "../container/build-step.js";
import { idMapping, isRootless } from "../runtime/user-namespace.js";
import { tempName } from "../store/fs-util.js";
import type { LayerInfo } from "../store/types.js";
import { envKey, type ImageConfig, type StageState } from "../image/config.js";
import type { RunStep } from "../image/plan.js";
import { shortDigest, stepKey } from "./cache.js";
import { BuildStepError, type StepPosition } from "./errors.js";
import { LayeredView } from "./layered-view.js";
import { DestinationError, LayerTree } from "./layer-builder.js";
import { removeMountStubs, runArgv } from "./run-step.js";
import { missingWorkdir } from "./workdir.js";
import type { BuildRun } from "./build-run.js";
import { afterLayerStep, OUTPUT_TAIL_LINES, tailLines, type BuildState } from "./build-state.js";
import { layerOfTree } from "./layer-of-tree.js";

/** RUN: the command runs in a build container on the parent's layers; its upper directory becomes the layer. */
export async function runLayerStep(
  run: BuildRun,
  step: RunStep,
  state: BuildState,
  config: StageState,
  declared: ReadonlySet<string>,
  position: StepPosition,
  event: { step: number; stage: string; instruction: string },
): Promise<BuildState> {
  if (step.mounts !== undefined && step.mounts.length > 0) {
    throw new BuildStepError(position, { reason: "RUN --mount is not supported by bento's build engine yet (the build container has no extra mounts); copy what the step needs with COPY instead" });
  }
  if (step.security === "insecure") throw new BuildStepError(position, { reason: "RUN --security=insecure is not supported: build containers never get extra privileges" });
  // ARGs in scope reach RUN as environment variables, unless an ENV of the same name overrides them.
  const envNames = new Set(config.config.Env.map(envKey));
  const env: Record<string, string> = {};
  for (const name of declared) {
    const value = config.vars[name];
    if (value !== undefined && !envNames.has(name)) env[name] = value;
  }
  for (const { key, value } of step.env ?? []) env[key] = value;
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) inputs[`var:${name}`] = shortDigest(value);
  // The step's own --network is in its instruction; the build's (docker build --network) is not.
  const network = step.network ?? run.options.network ?? "default";
  if (step.network === undefined && network !== "default") inputs.network = network;
  const key = stepKey(state.id, event.instruction, inputs);
  const argv = runArgv(step, config.config.Shell);
  const outcome = await run.cached(key, state, event, inputs, async () => {
    const lowerDirs = await run.lowerDirs(state.layers);
    const view = new LayeredView(lowerDirs);
    let result;
    try {
      result = await runBuildStep({
        lowerDirs,
        // Build containers get no anonymous volumes (VOLUME) and no healthcheck.
        config: { ...config.config, Volumes: {}, Healthcheck: undefined },
        argv,
        env,
        network,
        onOutput: (line) => run.emit({ type: "output", step: event.step, stream: line.stream === "stderr" ? "stderr" : "stdout", text: line.text }),
      });
    } catch (e) {
      throw new BuildStepError(position, { reason: `the build container could not run: ${(e as Error).message}` }, { cause: e });
    }
    try {
      if (result.exitCode !== 0 || result.signal !== undefined) {
        const outputTail = tailLines(result.output, OUTPUT_TAIL_LINES);
        const hint = onlyRootHint(outputTail);
        throw new BuildStepError(position, { exitCode: result.exitCode, ...(result.signal === undefined ? {} : { signal: result.signal }), outputTail, ...(hint === undefined ? {} : { hint }) });
      }
      const empty = removeMountStubs(result.upperDir, view);
      return empty ? {} : { layer: await layerOfTree(run.store, result.upperDir) };
    } finally {
      await result.remove();
    }
  });
  return afterLayerStep(state, key, outcome, event);
}

/**
 * Rootless without a subordinate id range, only id 0 exists in a build container: a chown to
 * another owner fails with EINVAL, as does apt's or su's switch to another user. When the output
 * shows such a failure, the error says why and how to get a range.
 */
function onlyRootHint(outputTail: string[]): string | undefined {
  if (!isRootless()) return undefined;
  const mapping = idMapping();
  if (mapping.kind !== "single" || !outputTail.some((line) => /Invalid argument|setgroups|setresuid|setegid|seteuid/i.test(line))) return undefined;
  return `(rootless without a subordinate id range only id 0 exists in the build container, so a chown to another owner or a switch to another user fails: ${mapping.limitation})`;
}

// The layer of a WORKDIR whose directory (or a parent) the image lacks: the directories, mode
// 0755, owned by the USER in effect (workdir.ts); no layer when it exists.
export async function workdirLayer(run: BuildRun, state: BuildState, config: ImageConfig, position: StepPosition): Promise<{ layer?: LayerInfo }> {
  const view = new LayeredView(await run.lowerDirs(state.layers));
  let missing;
  try {
    missing = missingWorkdir(view, config);
  } catch (e) {
    throw new BuildStepError(position, { reason: (e as Error).message }, { cause: e });
  }
  if (missing === undefined) return {};
  const root = path.join(run.store.tmpDir, tempName());
  mkdirSync(root, { mode: 0o755 });
  try {
    const tree = new LayerTree(root, view, { uid: 0, gid: 0 }, new Map(missing.dirs.map((d) => [d, missing.owner])));
    try {
      tree.ensureDir(missing.dirs[missing.dirs.length - 1] as string);
    } catch (e) {
      if (e instanceof DestinationError) throw new BuildStepError(position, { reason: `WORKDIR ${config.WorkingDir}: ${e.message}` }, { cause: e });
      throw e;
    }
    await tree.finish();
    return { layer: await layerOfTree(run.store, root, true) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
