/**
 * Compose `ports:` (short `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]` with ranges, and the long
 * syntax) and `expose:` entries, as bento's published-port specs.
 */
import { netModule } from "../../deps.js";
import type { PortSpec } from "../../network/port-spec.js";
import { at, toInt, type NormalizeContext, type Segments } from "./context.js";

function range(ctx: NormalizeContext, segments: Segments, text: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return ctx.fail(segments, `${JSON.stringify(text)} is not a ${what} port or range (such as 8080 or 8000-8010)`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) return ctx.fail(segments, `${JSON.stringify(text)} is not a ${what} port range within 1-65535`);
  return [lo, hi];
}

function protocolOf(ctx: NormalizeContext, segments: Segments, text: string | undefined): "tcp" | "udp" | undefined {
  const p = (text ?? "tcp").toLowerCase();
  if (p === "tcp" || p === "udp") return p;
  if (p === "sctp") {
    ctx.unsupported(segments, "sctp ports cannot be published: bento's port proxy handles tcp and udp");
    return undefined;
  }
  return ctx.fail(segments, `${JSON.stringify(text)} is not a protocol; use "tcp" or "udp"`);
}

/**
 * The one host address a port is published on; undefined (no address, or "localhost") keeps
 * bento's default, 127.0.0.1 and ::1, where compose would publish on every address.
 */
function hostIpOf(ctx: NormalizeContext, segments: Segments, ip: string | undefined): string | undefined {
  if (ip === undefined || ip === "" || ip === "localhost") return undefined;
  if (netModule().isIP(ip) === 0) return ctx.fail(segments, `${JSON.stringify(ip)} is not an IP address; write [HOST_IP:][HOST:]CONTAINER[/PROTOCOL], such as "127.0.0.1:8080:80"`);
  return ip;
}

/** Expands host and container ranges pairwise; a single container port with a host range is not supported. */
function expand(ctx: NormalizeContext, segments: Segments, host: [number, number] | undefined, container: [number, number], protocol: "tcp" | "udp", hostIp: string | undefined): PortSpec[] {
  const count = container[1] - container[0] + 1;
  if (host !== undefined && host[1] - host[0] + 1 !== count) {
    if (count === 1) {
      ctx.unsupported(segments, "a host port range for one container port (compose picks a free one from the range) is not supported; give one host port or none");
      return [];
    }
    return ctx.fail(segments, `the host range has ${host[1] - host[0] + 1} ports but the container range has ${count}; give ranges of the same length`);
  }
  const out: PortSpec[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ container: container[0] + i, ...(host === undefined ? {} : { host: host[0] + i }), protocol, ...(hostIp === undefined ? {} : { hostIp }) });
  }
  return out;
}

/**
 * One `ports:` entry as port specs (several for a range; none when it is reported unsupported).
 *
 * @example
 * ```ts
 * parsePortEntry(ctx, ["services", "web", "ports", 0], "127.0.0.1:8080:80/tcp"); // [{ container: 80, host: 8080, protocol: "tcp", hostIp: "127.0.0.1" }]
 * ```
 */
export function parsePortEntry(ctx: NormalizeContext, segments: Segments, entry: unknown): PortSpec[] {
  if (typeof entry === "number") return expand(ctx, segments, undefined, range(ctx, segments, String(entry), "container"), "tcp", undefined);
  if (typeof entry === "string") {
    let text = entry.trim();
    let proto: string | undefined;
    const slash = text.lastIndexOf("/");
    if (slash >= 0) {
      proto = text.slice(slash + 1);
      text = text.slice(0, slash);
    }
    let ip: string | undefined;
    let rest = text;
    if (rest.startsWith("[")) {
      const close = rest.indexOf("]:");
      if (close < 0) return ctx.fail(segments, `${JSON.stringify(entry)}: an IPv6 address in brackets must be followed by ":", as in "[::1]:8080:80"`);
      ip = rest.slice(1, close);
      rest = rest.slice(close + 2);
    }
    const parts = rest.split(":");
    let hostText: string | undefined;
    let containerText: string;
    if (ip !== undefined) {
      if (parts.length > 2) return ctx.fail(segments, `${JSON.stringify(entry)} is not [HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`);
      [hostText, containerText] = parts.length === 2 ? [parts[0], parts[1] as string] : [undefined, parts[0] as string];
    } else if (parts.length === 1) {
      containerText = parts[0] as string;
    } else if (parts.length === 2) {
      [hostText, containerText] = [parts[0], parts[1] as string];
    } else {
      containerText = parts[parts.length - 1] as string;
      hostText = parts[parts.length - 2];
      ip = parts.slice(0, -2).join(":");
    }
    const protocol = protocolOf(ctx, segments, proto);
    const hostIp = hostIpOf(ctx, segments, ip);
    if (protocol === undefined) return [];
    const container = range(ctx, segments, containerText, "container");
    const host = hostText === undefined || hostText === "" ? undefined : range(ctx, segments, hostText, "host");
    return expand(ctx, segments, host, container, protocol, hostIp);
  }
  const long = entry as Record<string, unknown>;
  const target = toInt(ctx, at(segments, "target"), long.target, 1);
  if (target > 65535) return ctx.fail(at(segments, "target"), `${target} is not a port number (1-65535)`);
  const protocol = protocolOf(ctx, at(segments, "protocol"), long.protocol as string | undefined);
  const hostIp = hostIpOf(ctx, at(segments, "host_ip"), long.host_ip as string | undefined);
  if (protocol === undefined) return [];
  const published = long.published === undefined || long.published === "" ? undefined : range(ctx, at(segments, "published"), String(long.published), "host");
  return expand(ctx, segments, published, [target, target], protocol, hostIp);
}

/**
 * One `expose:` entry as `"port/protocol"` strings (several for a range).
 *
 * @example
 * ```ts
 * parseExposeEntry(ctx, segments, "3000-3001/udp"); // ["3000/udp", "3001/udp"]
 * ```
 */
export function parseExposeEntry(ctx: NormalizeContext, segments: Segments, entry: unknown): string[] {
  const text = String(entry).trim();
  const m = /^([\d-]+)(?:\/([a-zA-Z]+))?$/.exec(text);
  if (!m) return ctx.fail(segments, `${JSON.stringify(entry)} is not a port such as "8080", "3000-3005" or "53/udp"`);
  const protocol = (m[2] ?? "tcp").toLowerCase();
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") return ctx.fail(segments, `${JSON.stringify(m[2])} is not a protocol; use "tcp" or "udp"`);
  const [lo, hi] = range(ctx, segments, m[1] as string, "container");
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${lo + i}/${protocol}`);
}
