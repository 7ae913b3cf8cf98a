/**
 * Running a service's `post_start` and `pre_stop` hooks: each an exec in its container, in order;
 * the first that fails (a non-zero exit, or an exec that cannot run) stops the list.
 */
import type { RunningContainer } from "../container/running-container.js";
import { BentoError } from "../errors.js";
import type { LifecycleHookPlan } from "./plan.js";

/**
 * Runs `hooks` in `container`; `where` names them in errors (`services.db.post_start`).
 *
 * @example
 * ```ts
 * await runHooks(container, service.hooks.postStart, "services.db.post_start");
 * ```
 */
export async function runHooks(container: RunningContainer, hooks: readonly LifecycleHookPlan[], where: string): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    const name = `${where}[${i}] (${hook.command.join(" ")})`;
    let result: Awaited<ReturnType<RunningContainer["exec"]>>;
    try {
      result = await container.exec([...hook.command], {
        env: { ...hook.environment },
        privileged: hook.privileged,
        ...(hook.user === undefined ? {} : { user: hook.user }),
        ...(hook.workingDir === undefined ? {} : { workdir: hook.workingDir }),
      });
    } catch (error) {
      throw new BentoError("ERR_STACK_HOOK", `${name} could not run: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (result.exitCode !== 0) {
      const output = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n    ");
      throw new BentoError("ERR_STACK_HOOK", `${name} exited with code ${result.exitCode}${output ? `:\n    ${output}` : ""}`);
    }
  }
}
