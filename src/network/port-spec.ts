/**
 * Published-port specs as users write them (`8080`, `"53/udp"`, `"127.0.0.1:8080:80"`,
 * `{ container: 5432, host: 15432 }`), and their validation.
 */
import { netModule } from "../deps.js";
import { InvalidOptionError } from "../errors.js";

/** A port to publish: a container port, and optionally the host port and protocol. */
export type PortSpec =
  | number
  | string
  | {
      /** The port inside the container (1-65535). */
      container: number;
      /** The host port (1-65535); absent or 0 chooses a free one. */
      host?: number;
      /** The protocol (default `tcp`). */
      protocol?: "tcp" | "udp";
      /**
       * The one host address to listen on, such as `"0.0.0.0"` (every IPv4 address: reachable from
       * other machines), `"::"` or `"192.0.2.1"`. Default: 127.0.0.1 and ::1 only.
       */
      hostIp?: string;
    };

/** A validated published port. */
export interface PublishedPort {
  container: number;
  /** 0: choose a free one. */
  host: number;
  protocol: "tcp" | "udp";
  /** The one host address to listen on; undefined: 127.0.0.1 and ::1. */
  hostIp?: string;
}

function portNumber(option: string, value: unknown, allowZero = false): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} is not a port number (1-65535)`);
  }
  return n;
}

/** A host address to listen on: an IP literal (IPv6 without brackets). */
function hostAddress(option: string, value: unknown): string {
  if (typeof value !== "string" || netModule().isIP(value) === 0) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} is not an IP address; use "127.0.0.1", "0.0.0.0", "::1" or another address of this machine`);
  }
  return value;
}

function portRange(option: string, text: string): [number, number] {
  const [lo, hi = lo] = text.split("-");
  const first = portNumber(option, lo),
    last = portNumber(option, hi);
  if (last < first) throw new InvalidOptionError(option, `"${text}" is not a port range (the first port must not be above the last)`);
  return [first, last];
}

const shortSyntax = 'use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], such as "8080", "53/udp", "127.0.0.1:8080:80", "[::1]:8080:80" or "8000-8001:80-81"';

/** docker run -p's syntax, `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]` with ranges, as published ports. */
function parseShortSyntax(option: string, spec: string): PublishedPort[] {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):)?(?:(\d*(?:-\d+)?):)?(\d+(?:-\d+)?)(?:\/([a-z]+))?$/.exec(spec);
  if (!m) throw new InvalidOptionError(option, `"${spec}" is not a port; ${shortSyntax}`);
  const [, ip6, ip4, hostText, containerText, protocolText = "tcp"] = m;
  if (protocolText !== "tcp" && protocolText !== "udp") throw new InvalidOptionError(option, `"${spec}": "${protocolText}" is not a protocol; use tcp or udp`);
  const hostIp = ip6 ?? ip4;
  if (hostIp !== undefined) hostAddress(option, hostIp);
  const [cLo, cHi] = portRange(option, containerText!);
  const host = hostText === undefined || hostText === "" ? undefined : portRange(option, hostText);
  if (host !== undefined && host[1] - host[0] !== cHi - cLo) {
    throw new InvalidOptionError(option, `"${spec}": the host range has ${host[1] - host[0] + 1} ports and the container range ${cHi - cLo + 1}; give ranges of the same length`);
  }
  return Array.from({ length: cHi - cLo + 1 }, (_, i) => ({
    container: cLo + i,
    host: host === undefined ? 0 : host[0] + i,
    protocol: protocolText,
    ...(hostIp === undefined ? {} : { hostIp }),
  }));
}

/**
 * Parses one port spec: a string may be a range (`"8000-8001:80-81"`), hence several ports.
 *
 * @example
 * ```ts
 * parsePortSpec("ports[0]", "127.0.0.1:8080:80"); // [{ container: 80, host: 8080, protocol: "tcp", hostIp: "127.0.0.1" }]
 * ```
 */
export function parsePortSpec(option: string, spec: PortSpec): PublishedPort[] {
  if (typeof spec === "number") return [{ container: portNumber(option, spec), host: 0, protocol: "tcp" }];
  if (typeof spec === "string") return parseShortSyntax(option, spec);
  if (typeof spec !== "object" || spec === null) throw new InvalidOptionError(option, 'must be a number, a string such as "53/udp" or "127.0.0.1:8080:80", or { container, host?, protocol?, hostIp? }');
  const protocol = spec.protocol ?? "tcp";
  if (protocol !== "tcp" && protocol !== "udp") throw new InvalidOptionError(`${option}.protocol`, `"${String(protocol)}" must be "tcp" or "udp"`);
  const port: PublishedPort = { container: portNumber(`${option}.container`, spec.container), host: spec.host === undefined ? 0 : portNumber(`${option}.host`, spec.host, true), protocol };
  if (spec.hostIp !== undefined) port.hostIp = hostAddress(`${option}.hostIp`, spec.hostIp);
  return [port];
}

/** Parses the `ports` option; the same container port and protocol may be published once. */
export function parsePorts(specs: readonly PortSpec[] | undefined): PublishedPort[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) throw new InvalidOptionError("ports", 'must be an array, e.g. [8080, "53/udp", "127.0.0.1:8080:80", { container: 5432, host: 15432 }]');
  const seen = new Set<string>();
  return specs.flatMap((spec, i) =>
    parsePortSpec(`ports[${i}]`, spec).map((p) => {
      const key = `${p.container}/${p.protocol}`;
      if (seen.has(key)) throw new InvalidOptionError(`ports[${i}]`, `${key} is published twice; publish each container port once`);
      seen.add(key);
      return p;
    }),
  );
}
