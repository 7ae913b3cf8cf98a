/**
 * The one place bento reads its environment. Everything else takes a {@link BentoConfig}.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** bento's settings, read from the environment. */
export interface BentoConfig {
  /** Where images, containers' files and volumes live (`BENTO_HOME`). */
  home: string;
  /** Where runtime state (locks, pids) lives (`BENTO_RUNTIME_DIR`). */
  runtimeDir: string;
  /** Subsystems to log debug output for (`BENTO_DEBUG=runtime,build,net`, or `*`). */
  debug: Set<string>;
  /** Multiplier for every startup timeout (`BENTO_TIMEOUT_SCALE`). */
  timeoutScale: number;
  /**
   * Which cgroup driver to use (`BENTO_CGROUP`): "auto" (detect), "v1", or "v2" — on a hybrid
   * host "v2" uses only the unified hierarchy (no limits there, but placement, kill-all and
   * events), as a pure cgroup v2 host would.
   */
  cgroup: "auto" | "v1" | "v2";
}

/** Reads bento's settings from `env` (the process environment by default). */
export function readConfig(env: NodeJS.ProcessEnv = process.env): BentoConfig {
  const isRoot = process.getuid?.() === 0;
  const dataHome = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  const runtimeBase = isRoot ? "/run" : env.XDG_RUNTIME_DIR || join("/tmp", `bento-${process.getuid?.() ?? "user"}`);
  const scale = env.BENTO_TIMEOUT_SCALE === undefined ? 1 : Number(env.BENTO_TIMEOUT_SCALE);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`BENTO_TIMEOUT_SCALE: "${env.BENTO_TIMEOUT_SCALE}" is not a positive number; set it to e.g. 2, or unset it`);
  }
  const cgroup = env.BENTO_CGROUP || "auto";
  if (cgroup !== "auto" && cgroup !== "v1" && cgroup !== "v2") {
    throw new Error(`BENTO_CGROUP: "${cgroup}" is not a cgroup driver; use auto, v1 or v2, or unset it`);
  }
  return {
    cgroup,
    home: env.BENTO_HOME || join(dataHome, "bento"),
    runtimeDir: env.BENTO_RUNTIME_DIR || join(runtimeBase, "bento"),
    debug: new Set((env.BENTO_DEBUG ?? "").split(",").map((s) => s.trim()).filter(Boolean)),
    timeoutScale: scale,
  };
}

let current: BentoConfig | undefined;

/** The process-wide configuration, read once. */
export function config(): BentoConfig {
  current ??= readConfig();
  return current;
}
