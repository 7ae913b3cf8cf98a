/**
 * The services a `bento compose` subcommand works on: those named after it, else all of them.
 */
import type { StackPlan } from "../stack/plan.js";
import { UsageError } from "./args.js";

/**
 * The services named in `positionals` (each checked against the file), else every service in
 * the order the file lists them; a UsageError naming an unknown one and the services there are.
 *
 * @example
 * ```ts
 * for (const name of chosenServices(plan, positionals, usage)) console.log(name);
 * ```
 */
export function chosenServices(plan: StackPlan, positionals: readonly string[], usage: string): string[] {
  for (const name of positionals) {
    if (plan.services[name] === undefined) throw new UsageError(`stack ${plan.name} has no service "${name}" (services: ${Object.keys(plan.services).join(", ")})`, usage);
  }
  return positionals.length > 0 ? [...positionals] : Object.keys(plan.services);
}
