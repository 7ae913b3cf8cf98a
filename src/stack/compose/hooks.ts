/**
 * Compose `post_start` and `pre_stop`: commands run with exec in a service's container after it
 * starts and before it stops, each with its own user, working directory, environment and
 * `privileged`.
 */
import type { LifecycleHookPlan } from "../plan.js";
import { at, toBool, toStringMap, type NormalizeContext, type Segments } from "./context.js";
import { splitShellWords } from "./shell-words.js";

function hookCommand(ctx: NormalizeContext, segments: Segments, value: unknown): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) ctx.fail(segments, "the command is empty; give the command to run");
    return value.map(String);
  }
  const split = splitShellWords(String(value ?? ""));
  if ("error" in split) return ctx.fail(segments, `${JSON.stringify(value)}: ${split.error}; close it, or write the command as a list`);
  if (split.words.length === 0) ctx.fail(segments, "the command is empty; give the command to run");
  return split.words;
}

/**
 * The hooks of one `post_start` or `pre_stop` list.
 *
 * @example
 * ```ts
 * lifecycleHooks(ctx, ["services", "db", "post_start"], [{ command: "touch /tmp/ready", user: "postgres" }]);
 * ```
 */
export function lifecycleHooks(ctx: NormalizeContext, segments: Segments, value: unknown): LifecycleHookPlan[] {
  return ((value as Record<string, unknown>[] | null) ?? []).map((raw, i) => {
    const segs = at(segments, i);
    const hook: LifecycleHookPlan = {
      command: hookCommand(ctx, at(segs, "command"), raw.command),
      privileged: raw.privileged === undefined ? false : toBool(ctx, at(segs, "privileged"), raw.privileged),
      environment: raw.environment === undefined ? {} : toStringMap(ctx, at(segs, "environment"), raw.environment, (k) => ctx.lookup(k)),
    };
    if (typeof raw.user === "string") hook.user = raw.user;
    if (typeof raw.working_dir === "string") {
      if (!raw.working_dir.startsWith("/")) ctx.fail(at(segs, "working_dir"), `"${raw.working_dir}" must be an absolute path in the container, such as "/app"`);
      hook.workingDir = raw.working_dir;
    }
    return hook;
  });
}
