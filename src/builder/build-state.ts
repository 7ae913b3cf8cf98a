/**
 * The states a build passes through (the identity, layers and config after each step) and the
 * small helpers the build's parts share: progress text of a step, output tails, the scratch state.
 */
import type { HistoryEntry, LayerInfo, ResolvedImage } from "../store/types.js";
import { emptyImageConfig, type ImageConfig } from "../image/config.js";
import { printStep } from "../image/dockerfile-printer.js";
import type { FromStep, ImageStep } from "../image/plan.js";
import type { EscapeToken } from "../image/shell-lexer.js";
import { stateIdAfter, hashParts, type StepRecord } from "./cache.js";

/** A point in a build: the identity, layers and config after some step. */
export interface BuildState {
  /** The cache identity (hex), see cache.ts. */
  id: string;
  layers: LayerInfo[];
  config: ImageConfig;
  history: HistoryEntry[];
  created: string | undefined;
  author: string | undefined;
  /** The step of this build that ran (missed the cache) and led to this state, if one did. */
  rebuiltBy: number | undefined;
  /** The stored image this state is, unchanged (a stage that starts from an image and adds nothing). */
  image?: ResolvedImage;
}

export interface StepOutcome {
  record: StepRecord;
  ran: boolean;
}

export const OUTPUT_TAIL_LINES = 20;
export const CONFIG_ONLY = new Set<ImageStep["kind"]>(["arg", "env", "workdir", "user", "label", "expose", "volume", "healthcheck", "shell", "stopSignal", "onbuild", "entrypoint", "cmd", "maintainer"]);

/** The state after a step that may have made a layer: its identity, layers and history. */
export function afterLayerStep(state: BuildState, key: string, outcome: StepOutcome, event: { step: number; instruction: string }): BuildState {
  const layer = outcome.record.layer;
  return {
    ...state,
    image: undefined,
    id: stateIdAfter(key, layer?.diffId),
    layers: layer === undefined ? state.layers : [...state.layers, layer],
    history: [...state.history, { created: outcome.record.created, created_by: event.instruction, ...(layer === undefined ? { empty_layer: true } : {}) }],
    created: outcome.record.created,
    rebuiltBy: outcome.ran ? event.step : state.rebuiltBy,
  };
}

// The Dockerfile form of a step without the printer's `# bento:` notes (the command line itself
// carries what they describe).
export function stepText(step: ImageStep, escape: EscapeToken): string {
  return printStep(step, escape)
    .split("\n")
    .filter((line) => !line.startsWith("# bento:"))
    .join("\n");
}

// A rootfs base has no Dockerfile form (the printer writes a comment); progress names the directory.
export function fromText(from: FromStep, escape: EscapeToken): string {
  if (from.base.type !== "rootfs") return printStep(from, escape);
  return `FROM ${from.base.path} (root filesystem directory)${from.stage === undefined ? "" : ` AS ${from.stage}`}`;
}

export function scratchState(): BuildState {
  return { id: hashParts("scratch"), layers: [], config: emptyImageConfig(), history: [], created: undefined, author: undefined, rebuiltBy: undefined };
}

export function tailLines(output: string, count: number): string[] {
  const lines = output.replace(/\n$/, "").split("\n");
  return lines.slice(-count).filter((l, i, all) => l !== "" || i < all.length - 1);
}
