/**
 * The ready-made vitest globalSetup (`globalSetup: "bento/vitest/global-setup"`): before any test
 * file runs, it removes what earlier runs left behind when they were killed (SIGKILL, an OOM kill,
 * a lost CI runner), so a run starts from a clean machine and `bento ps` shows only its own.
 */
import { debug } from "../debug.js";
import { sweepLeftBehind } from "../runtime/machine-containers.js";

/**
 * vitest's globalSetup hook: sweeps containers whose owner process is gone. Named `setup` so that
 * `bento/vitest/global-setup` works as a globalSetup entry as written.
 *
 * @example
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ["bento/vitest/global-setup"] } });
 * ```
 */
export function setup(): void {
  const swept = sweepLeftBehind();
  if (swept.length > 0) debug("runtime", `global setup: removed ${swept.length} container(s) earlier runs left behind: ${swept.map((c) => c.name).join(", ")}`);
}
