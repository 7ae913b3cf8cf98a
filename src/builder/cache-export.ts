/**
 * What a build's registry cache export holds: every step the build went through (cached or run)
 * and its root filesystem bases, narrowed for the `min` mode to the chain that leads to the final
 * state.
 */
import { hashParts, stateIdAfter } from "./cache.js";
import type { CacheMode } from "./cache-settings.js";
import type { BuildCacheDocument, CachedRootfs, CachedStep } from "./remote-cache.js";

/**
 * The steps a build went through, for its export: `min` keeps the chain that leads to the final
 * state, `max` keeps all.
 */
export class CacheExport {
  readonly #steps = new Map<string, CachedStep>();
  readonly #rootfs = new Map<string, CachedRootfs>();

  /** Notes a step (cached or run). */
  noteStep(step: CachedStep): void {
    this.#steps.set(step.key, step);
  }

  /** Notes a root filesystem base. */
  noteRootfs(entry: CachedRootfs): void {
    this.#rootfs.set(entry.hash, entry);
  }

  /** The document to write for a build that ended in the state `finalStateId`. */
  document(finalStateId: string, mode: CacheMode): BuildCacheDocument {
    if (mode === "max") return { version: 1, mode, steps: [...this.#steps.values()], rootfs: [...this.#rootfs.values()] };
    const byResult = new Map<string, CachedStep>();
    for (const step of this.#steps.values()) byResult.set(stateIdAfter(step.key, step.layer?.diffId), step);
    const chain: CachedStep[] = [];
    let id = finalStateId;
    for (let step = byResult.get(id); step !== undefined && !chain.includes(step); step = byResult.get(id)) {
      chain.push(step);
      id = step.parent;
    }
    const rootfs = [...this.#rootfs.values()].filter((r) => hashParts("rootfs", r.layer.diffId) === id);
    return { version: 1, mode, steps: chain.reverse(), rootfs };
  }
}
