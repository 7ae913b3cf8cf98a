/**
 * Published-port specs as users write them (`8080`, `"53/udp"`, `{ container: 5432, host: 15432 }`),
 * and their validation.
 */
import { InvalidOptionError } from "../errors.js";

/** A port to publish: a container port, and optionally the host port and protocol. */
export type PortSpec =
  | number
  | string
  | {
    /** The port inside the container (1-65535). */
    container: number;
    /** The host port on 127.0.0.1 and ::1 (1-65535); absent or 0 chooses a free one. */
    host?: number;
    /** The protocol (default `tcp`). */
    protocol?: "tcp" | "udp";
  };

/** A validated published port. */
export interface PublishedPort {
  container: number;
  /** 0: choose a free one. */
  host: number;
  protocol: "tcp" | "udp";
}

function portNumber(option: string, value: unknown, allowZero = false): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} is not a port number (1-65535)`);
  }
  return n;
}

/** Parses one port spec. */
export function parsePortSpec(option: string, spec: PortSpec): PublishedPort {
  if (typeof spec === "number") return { container: portNumber(option, spec), host: 0, protocol: "tcp" };
  if (typeof spec === "string") {
    const match = /^(\d+)(?:\/(tcp|udp))?$/.exec(spec);
    if (!match) throw new InvalidOptionError(option, `"${spec}" is not a port; use "8080", "8080/tcp" or "53/udp"`);
    return { container: portNumber(option, match[1]), host: 0, protocol: (match[2] as "tcp" | "udp" | undefined) ?? "tcp" };
  }
  if (typeof spec !== "object" || spec === null) throw new InvalidOptionError(option, "must be a number, a string such as \"53/udp\", or { container, host?, protocol? }");
  const protocol = spec.protocol ?? "tcp";
  if (protocol !== "tcp" && protocol !== "udp") throw new InvalidOptionError(`${option}.protocol`, `"${String(protocol)}" must be "tcp" or "udp"`);
  return { container: portNumber(`${option}.container`, spec.container), host: spec.host === undefined ? 0 : portNumber(`${option}.host`, spec.host, true), protocol };
}

/** Parses the `ports` option; the same container port and protocol may be published once. */
export function parsePorts(specs: readonly PortSpec[] | undefined): PublishedPort[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) throw new InvalidOptionError("ports", "must be an array, e.g. [8080, \"53/udp\", { container: 5432, host: 15432 }]");
  const seen = new Set<string>();
  return specs.map((spec, i) => {
    const p = parsePortSpec(`ports[${i}]`, spec);
    const key = `${p.container}/${p.protocol}`;
    if (seen.has(key)) throw new InvalidOptionError(`ports[${i}]`, `${key} is published twice; publish each container port once`);
    seen.add(key);
    return p;
  });
}
