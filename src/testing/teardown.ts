/**
 * The process-wide teardown registry (DESIGN section 8, layer 2): every container this process
 * starts is tracked until removed; on exit, SIGINT, SIGTERM or an uncaught error, whatever is
 * left is killed and removed. Exit hooks cannot wait for promises, so this cleanup is synchronous.
 */
import exitHook from "async-exit-hook";

/** Something that can be torn down synchronously at process exit. */
export interface Teardown {
  teardownSync(): void;
}

const live = new Set<Teardown>();
let installed = false;

function tearDownAll(): void {
  for (const item of [...live]) {
    try {
      item.teardownSync();
    } catch {
      // keep going: the sweep is the backstop for anything left
    }
    live.delete(item);
  }
}

/** Tracks `item` until {@link untrack}; installs the exit hooks on first use. */
export function track(item: Teardown): void {
  if (!installed) {
    installed = true;
    exitHook(tearDownAll);
  }
  live.add(item);
}

/** Stops tracking `item` (it was removed). */
export function untrack(item: Teardown): void {
  live.delete(item);
}

/** How many tracked resources are alive (for tests and `bento ps`). */
export function trackedCount(): number {
  return live.size;
}
