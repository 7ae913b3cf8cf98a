/**
 * Compose keys about the system a container sees: `extra_hosts`, `dns`, `dns_search`, `dns_opt`,
 * `domainname`, `sysctls`, `ulimits` and `shm_size`, as container options (checked, with the
 * rest, by the Container's own validation).
 */
import type { ContainerOptions } from "../../container/options.js";
import { splitExtraHost, type UlimitSpec } from "../../container/system-options.js";
import { at, toInt, toStringList, toStringMap, type NormalizeContext, type Segments } from "./context.js";

/** `extra_hosts` as a map: a list holds "host:address" or "host=address" (an IPv6 address keeps its colons). */
function extraHosts(ctx: NormalizeContext, segments: Segments, value: unknown): Record<string, string> {
  if (!Array.isArray(value)) return toStringMap(ctx, segments, value, () => "");
  const out: Record<string, string> = {};
  value.forEach((entry, i) => {
    const text = String(entry);
    const split = splitExtraHost(text);
    if (split === undefined) ctx.fail(at(segments, i), `${JSON.stringify(text)} is not "host:address" (or "host=address")`);
    out[split[0]] = split[1];
  });
  return out;
}

function ulimits(ctx: NormalizeContext, segments: Segments, value: Record<string, unknown>): Record<string, UlimitSpec> {
  const out: Record<string, UlimitSpec> = {};
  for (const [name, spec] of Object.entries(value)) {
    const segs = at(segments, name);
    if (typeof spec === "object" && spec !== null) {
      const limits = spec as Record<string, unknown>;
      out[name] = { soft: toInt(ctx, at(segs, "soft"), limits.soft, -1), hard: toInt(ctx, at(segs, "hard"), limits.hard, -1) };
    } else {
      out[name] = toInt(ctx, segs, spec, -1);
    }
  }
  return out;
}

/**
 * The container options of a service's system keys.
 *
 * @example
 * ```ts
 * systemOptions(ctx, ["services", "db"], { shm_size: "256m", ulimits: { nofile: 4096 } }); // { shmSize: "256m", ulimits: { nofile: 4096 } }
 * ```
 */
export function systemOptions(ctx: NormalizeContext, service: Segments, raw: Record<string, unknown>): ContainerOptions {
  const options: ContainerOptions = {};
  if (raw.extra_hosts !== undefined) options.extraHosts = extraHosts(ctx, at(service, "extra_hosts"), raw.extra_hosts);
  if (raw.dns !== undefined || raw.dns_search !== undefined || raw.dns_opt !== undefined) {
    options.dns = {};
    if (raw.dns !== undefined) options.dns.servers = toStringList(raw.dns);
    if (raw.dns_search !== undefined) options.dns.search = toStringList(raw.dns_search);
    if (raw.dns_opt !== undefined) options.dns.options = toStringList(raw.dns_opt);
  }
  if (typeof raw.domainname === "string") options.domainname = raw.domainname;
  if (raw.sysctls !== undefined) options.sysctls = toStringMap(ctx, at(service, "sysctls"), raw.sysctls, () => "");
  if (raw.ulimits !== undefined) options.ulimits = ulimits(ctx, at(service, "ulimits"), raw.ulimits as Record<string, unknown>);
  if (raw.shm_size !== undefined) options.shmSize = raw.shm_size as string | number;
  return options;
}
