/**
 * The teardown registry (DESIGN section 8, layer 2): every container this thread starts is
 * tracked until removed; when the process exits (normally, on SIGINT or SIGTERM, or on an
 * uncaught error), whatever is left is killed and removed. Exit hooks cannot wait for promises,
 * so this cleanup is synchronous. It never changes how the process ends (runtime/exit-hooks.ts).
 *
 * Hooks run in the main thread only. A container started from a worker thread outlives that
 * worker (its shim was spawned from bento's own long-lived native thread, so the kernel does not
 * kill it when the worker's thread ends): vitest's threads pool hands fixtures between workers.
 * The main thread's hook also removes this process's containers that no live object tracks.
 */
import { workerThreadsModule } from "../deps.js";
import { onProcessEnd } from "./exit-hooks.js";

/** Something that can be torn down synchronously at process exit. */
export interface Teardown {
  teardownSync(): void;
}

const live = new Set<Teardown>();
let installed = false;

const orphanSweeps: (() => void)[] = [];

/** Registers a cleanup for resources this process owns that no object tracks any more. */
export function onExitSweep(sweep: () => void): void {
  orphanSweeps.push(sweep);
  install();
}

function install(): void {
  if (installed || !workerThreadsModule().isMainThread) return;
  installed = true;
  onProcessEnd(tearDownAll);
}

function tearDownAll(): void {
  for (const item of [...live]) {
    try {
      item.teardownSync();
    } catch {
      // keep going: the sweep is the backstop for anything left
    }
    live.delete(item);
  }
  for (const sweep of orphanSweeps) {
    try {
      sweep();
    } catch {
      // the next process's sweep is the backstop
    }
  }
}

/** Tracks `item` until {@link untrack}; installs the exit hooks on first use. */
export function track(item: Teardown): void {
  install();
  live.add(item);
}

/** Stops tracking `item` (it was removed). */
export function untrack(item: Teardown): void {
  live.delete(item);
}
