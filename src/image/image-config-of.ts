/**
 * Folds a plan's config-only steps into the image config of its last (target) stage, following the
 * chain of FROMs through earlier stages and embedded plans.
 */
import { BentoError } from "../errors.js";
import { applyConfigStep, emptyImageConfig, startStage, type ImageConfig, type StageState } from "./config.js";
import { parseOnbuildTrigger } from "./dockerfile.js";
import type { ImageBase, ImagePlan } from "./plan.js";
import { processWord } from "./shell-lexer.js";
import { findStage, splitStages, type PlanStage } from "./stages.js";

/** Where a stage that starts from an image reference gets that image's config. */
export type BaseConfigSource = ImageConfig | ((ref: string, platform: string | undefined) => ImageConfig | undefined);

/** Options of {@link imageConfigOf}. */
export interface ImageConfigOfOptions {
  /** `--build-arg` values; they override the plan's own `buildArgs`. */
  buildArgs?: Readonly<Record<string, string>>;
  /**
   * The config of the image a `ref` base names: one config (for a plan with one such base), or a
   * function of the expanded reference. Not needed for scratch, rootfs or embedded-plan bases.
   */
  baseConfig?: BaseConfigSource;
  /** Target platform for the automatic platform ARGs (`TARGETARCH`...). Default: this host's. */
  platform?: string;
}

/**
 * The config of the image a plan describes (its last stage): the base config (empty for scratch and
 * rootfs), then every config step folded in with Docker's semantics. Pure: no I/O.
 *
 * @example
 * ```ts
 * const config = imageConfigOf(Image.fromRootfs("/srv/rootfs").env("MODE", "test").cmd(["/app"]).toPlan());
 * config.Cmd; // ["/app"]
 * ```
 */
export function imageConfigOf(plan: ImagePlan, options: ImageConfigOfOptions = {}): ImageConfig {
  const { metaArgs, stages } = splitStages(plan);
  const target = stages[stages.length - 1];
  if (target === undefined) throw new BentoError("ERR_INVALID_PLAN", "imageConfigOf: the plan has no from step, so it describes no image");
  const buildArgs = { ...plan.buildArgs, ...options.buildArgs };
  const escape = plan.escape ?? "\\";
  const platform = options.platform ?? hostPlatform();

  // Global ARGs: each default sees the ones before it and the automatic platform ARGs.
  const globals: Record<string, string | undefined> = {};
  const fromVars: Record<string, string> = { ...platformArgs(platform) };
  for (const step of metaArgs) {
    for (const arg of step.args) {
      const value = Object.hasOwn(buildArgs, arg.name) ? buildArgs[arg.name] : arg.default === undefined ? undefined : processWord(arg.default, fromVars, { escape });
      globals[arg.name] = value;
      if (value !== undefined) fromVars[arg.name] = value;
    }
  }

  const done = new Map<number, ImageConfig>();
  const configOfStage = (stage: PlanStage, visiting: Set<number>): ImageConfig => {
    const cached = done.get(stage.index);
    if (cached !== undefined) return cached;
    if (visiting.has(stage.index)) throw new BentoError("ERR_INVALID_PLAN", `imageConfigOf: stage ${stage.index} starts from itself`);
    visiting.add(stage.index);
    const fromPlatform = stage.from.platform === undefined ? undefined : processWord(stage.from.platform, fromVars, { escape });
    const base = baseConfigOf(stage.from.base, stage, fromPlatform, visiting);
    let state: StageState = startStage(base);
    // The base image's ONBUILD triggers run first in this stage (and are not inherited).
    for (const trigger of base.OnBuild ?? []) {
      for (const step of parseOnbuildTrigger(trigger)) state = applyConfigStep(state, step, { buildArgs, metaArgs: globals, escape });
    }
    for (const step of stage.steps) state = applyConfigStep(state, step, { buildArgs, metaArgs: globals, escape });
    done.set(stage.index, state.config);
    return state.config;
  };

  const baseConfigOf = (base: ImageBase, stage: PlanStage, fromPlatform: string | undefined, visiting: Set<number>): ImageConfig => {
    switch (base.type) {
      case "scratch":
      case "rootfs":
        return emptyImageConfig();
      case "image":
        return imageConfigOf(base.plan, { ...options, buildArgs: undefined });
      case "stage": {
        const earlier = findStage(stages, base.name, stage.index);
        if (earlier === undefined) throw new BentoError("ERR_INVALID_PLAN", `imageConfigOf: stage ${stage.index} starts from stage "${base.name}", which is not defined before it`);
        return configOfStage(earlier, visiting);
      }
      case "ref": {
        const ref = processWord(base.ref, fromVars, { escape });
        // A FROM whose expanded name is an earlier stage's name uses that stage (BuildKit).
        const earlier = findStage(stages, ref, stage.index);
        if (earlier !== undefined && !/^\d+$/.test(ref)) return configOfStage(earlier, visiting);
        if (ref === "scratch") return emptyImageConfig();
        const source = options.baseConfig;
        const config = typeof source === "function" ? source(ref, fromPlatform) : source;
        if (config === undefined) {
          throw new BentoError("ERR_BASE_CONFIG_REQUIRED", `imageConfigOf: stage ${stage.index} starts from image "${ref}"; pass options.baseConfig with that image's config (pull it first)`);
        }
        return config;
      }
      default: {
        const unknown: never = base;
        throw new BentoError("ERR_INVALID_PLAN", `imageConfigOf: unknown base type ${JSON.stringify((unknown as { type: unknown }).type)}`);
      }
    }
  };

  return configOfStage(target, new Set());
}

/**
 * This host's platform in OCI form, such as `linux/amd64` or `linux/arm64/v8`.
 *
 * @example
 * ```ts
 * hostPlatform(); // "linux/amd64" on x86-64
 * ```
 */
export function hostPlatform(): string {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm/v7", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

/**
 * The automatic platform ARGs BuildKit defines in the global scope (`TARGETPLATFORM`, `TARGETOS`,
 * `TARGETARCH`, `TARGETVARIANT` and the `BUILD*` ones); builds are native here, so both sides are equal.
 *
 * @example
 * ```ts
 * platformArgs("linux/arm64").TARGETARCH; // "arm64"
 * ```
 */
export function platformArgs(platform: string): Record<string, string> {
  const build = hostPlatform();
  const describe = (prefix: string, value: string): Record<string, string> => {
    const [os = "linux", arch = "", variant = ""] = value.split("/");
    return { [`${prefix}PLATFORM`]: value, [`${prefix}OS`]: os, [`${prefix}ARCH`]: arch, [`${prefix}VARIANT`]: variant };
  };
  return { ...describe("BUILD", build), ...describe("TARGET", platform) };
}
