/**
 * Compose `pid` and `ipc`: "host", `service:x` (x's namespace; x starts first, an implicit
 * dependency), and for ipc "private" and "shareable" (its own, which "shareable" lets others join,
 * as Docker asks of a donor).
 */
import type { ContainerOptions } from "../../container/options.js";
import type { ServicePlan } from "../plan.js";
import { at, type NormalizeContext, type Segments } from "./context.js";

/**
 * Reads `pid` and `ipc` into the plan: "host" (and ipc's own modes) as options, `service:x` as a
 * reference checked once every service is known.
 *
 * @example
 * ```ts
 * namespaceKeys(ctx, ["services", "debug"], "debug", { pid: "service:app" }, plan); // plan.sharesPidOf === "app"
 * ```
 */
export function namespaceKeys(ctx: NormalizeContext, segs: Segments, name: string, raw: Record<string, unknown>, plan: ServicePlan): void {
  const options: ContainerOptions = plan.options;
  for (const key of ["pid", "ipc"] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    const mode = String(value);
    const own = key === "ipc" ? ["private", "shareable"] : [];
    if (mode === "host") options[key] = "host";
    else if (own.includes(mode)) options.ipc = mode as "private" | "shareable";
    else if (mode.startsWith("service:")) {
      const target = mode.slice("service:".length);
      if (target === "" || target === name) ctx.fail(at(segs, key), `"${mode}" must name another service, such as "service:app"`);
      if (key === "pid") plan.sharesPidOf = target;
      else plan.sharesIpcOf = target;
      plan.dependsOn[target] ??= { condition: "started", required: true };
    } else if (mode.startsWith("container:")) {
      ctx.unsupported(at(segs, key), `${key} ${JSON.stringify(mode)} is not supported: a stack's services can share only each other's namespaces; use "service:<name>"`);
    } else {
      ctx.fail(at(segs, key), `${JSON.stringify(mode)} is not a ${key} mode; use ${[...own.map((o) => `"${o}"`), '"host"', '"service:<name>"'].join(", ")}`);
    }
  }
}

/**
 * Checks the `service:x` references of `pid` and `ipc` once every service is known: x must exist,
 * and an IPC donor must be `ipc: shareable`, as Docker requires.
 *
 * @example
 * ```ts
 * checkNamespaceReferences(services, fail);
 * ```
 */
export function checkNamespaceReferences(services: Record<string, ServicePlan>, fail: (segments: (string | number)[], reason: string) => never): void {
  for (const [name, service] of Object.entries(services)) {
    for (const [key, target] of [
      ["pid", service.sharesPidOf],
      ["ipc", service.sharesIpcOf],
    ] as const) {
      if (target === undefined) continue;
      const donor = services[target];
      if (donor === undefined)
        fail(["services", name, key], `service ${name} shares the ${key} namespace of the undefined service ${JSON.stringify(target)} (services: ${Object.keys(services).join(", ")}); name one of them after "service:"`);
      if (key === "ipc" && donor.options.ipc !== "shareable") fail(["services", name, key], `the IPC namespace of ${target} is private; set ipc: shareable on ${target} to let ${name} join it`);
    }
  }
}
