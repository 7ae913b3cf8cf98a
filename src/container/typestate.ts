/**
 * The one transition of the container typestate that points backwards: `RunningContainer.stop()`
 * gives a `StoppedContainer`, whose module imports `RunningContainer` (its `start()` makes one).
 * So that the two modules do not load each other, the stopped state registers its constructor
 * here when its module loads; `container.ts`, which makes every first `RunningContainer`, loads it.
 */
import { BentoError } from "../errors.js";
import type { ContainerInstance } from "./instance.js";
import type { StoppedContainer } from "./stopped-container.js";

let makeStopped: ((instance: ContainerInstance) => StoppedContainer) | undefined;

/** Called once by `stopped-container.ts` when it loads. */
export function registerStoppedContainer(make: (instance: ContainerInstance) => StoppedContainer): void {
  makeStopped = make;
}

/** The `StoppedContainer` view of `instance`. */
export function stoppedContainer(instance: ContainerInstance): StoppedContainer {
  if (makeStopped === undefined) throw new BentoError("ERR_INTERNAL", 'container/stopped-container.ts was not loaded; import containers from "bento"');
  return makeStopped(instance);
}
