/**
 * `bento run --rm -d`: a detached container is removed when its command ends, by a small bento
 * process in the background that waits for it (as docker's daemon does for --rm). The container's
 * own helper records the exit; this process only removes what is left.
 */
import { Container } from "../container/container.js";
import { spawnBackgroundBento } from "./background.js";

/** Set in the remover's environment: the id of the container to remove once it exited. */
const removerEnv = "BENTO_REMOVE_WHEN_EXITED";

/** The container id the remover waits for, in the remover process; else undefined. */
export function containerToRemove(): string | undefined {
  return process.env[removerEnv] || undefined;
}

/** Starts the remover of container `id` in the background. */
export function startRemover(id: string): void {
  spawnBackgroundBento([], { [removerEnv]: id }).unref();
}

/**
 * The remover's life: waits for the container to exit, removes it, and resolves to 0; to 1 when
 * it could not (someone else removed it first, for one).
 */
export async function removeWhenExited(id: string): Promise<number> {
  try {
    const container = await Container.attach(id);
    await container.wait();
    await container.remove();
    return 0;
  } catch {
    return 1;
  }
}
