/**
 * Container options about the system a container sees rather than what it runs: extra /etc/hosts
 * entries, resolv.conf, the NIS domain name, namespaced sysctls, resource limits (setrlimit) and
 * the size of /dev/shm. Validated here; the runtime turns them into files and plan steps.
 */
import { netModule } from "../deps.js";
import { InvalidOptionError } from "../errors.js";
import type { SystemSettings } from "../runtime/container-plan.js";
import { parseBytes } from "../runtime/limits.js";

/**
 * resolv.conf contents. A container's network namespace has no route out, so these matter only
 * to programs that read the file.
 *
 * @example
 * ```ts
 * new Container(image, { dns: { servers: ["10.0.0.2"], search: ["corp.example"], options: ["ndots:2"] } });
 * ```
 */
export interface DnsOptions {
  /** `nameserver` lines (default: the host's, without loopback ones). */
  servers?: string[];
  /** The `search` domains. */
  search?: string[];
  /** The `options` (such as "ndots:2"). */
  options?: string[];
}

/**
 * A resource limit (setrlimit(2)): one number for both, or soft and hard.
 *
 * @example
 * ```ts
 * new Container(image, { ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: 512 } });
 * ```
 */
export type UlimitSpec =
  | number
  | {
      /** The limit the process gets. */
      soft: number;
      /** The ceiling it may raise the soft limit to. */
      hard: number;
    };

/** setrlimit(2) resources by the names docker and compose use (asm-generic/resource.h). */
const rlimitResources: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};

/** Sysctls a container may set: those of its own IPC and network namespaces (Docker's list, moby's `oci/namespaces` validation). */
const ipcSysctls = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);

const hostPattern = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;

/**
 * The host-gateway address: the test process's own servers are reachable from a container only
 * when it shares the host's network (network: "host"), so host-gateway is loopback there.
 */
export const hostGateway = "127.0.0.1";

function strings(option: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "" && !/[\n\0]/.test(v))) throw new InvalidOptionError(option, "must be an array of non-empty strings on one line");
  return [...value];
}

/**
 * Validates the system options; `network` is the container's network mode ("host" shares the
 * host's network, where sysctls of the network namespace are refused, as Docker refuses them).
 *
 * @example
 * ```ts
 * normalizeSystemOptions({ extraHosts: { "api.test": "host-gateway" }, sysctls: { "net.core.somaxconn": "1024" } }, "host");
 * ```
 */
export function normalizeSystemOptions(
  options: {
    extraHosts?: Record<string, string> | undefined;
    dns?: DnsOptions | undefined;
    domainname?: string | undefined;
    sysctls?: Record<string, string | number> | undefined;
    ulimits?: Record<string, UlimitSpec> | undefined;
    shmSize?: string | number | undefined;
  },
  network: "none" | "host" | "joined" | "shared",
): SystemSettings {
  const settings: SystemSettings = { extraHosts: [], sysctls: [], rlimits: [] };
  for (const [host, address] of Object.entries(options.extraHosts ?? {})) {
    if (!hostPattern.test(host)) throw new InvalidOptionError(`extraHosts.${host}`, `${JSON.stringify(host)} is not a host name`);
    if (address === "host-gateway") {
      if (network !== "host") {
        throw new InvalidOptionError(
          `extraHosts.${host}`,
          `host-gateway needs network: "host" (in compose, network_mode: host): a bento container has its own network namespace with no route to the host, so a server of the test process is reachable only from a container that shares the host's network (where host-gateway is ${hostGateway})`,
        );
      }
      settings.extraHosts.push([host, hostGateway]);
    } else if (typeof address !== "string" || netModule().isIP(address) === 0) {
      throw new InvalidOptionError(`extraHosts.${host}`, `${JSON.stringify(address)} is not an IP address (or "host-gateway")`);
    } else {
      settings.extraHosts.push([host, address]);
    }
  }
  if (options.dns !== undefined) {
    const dns: DnsOptions = {};
    if (options.dns.servers !== undefined) {
      dns.servers = strings("dns.servers", options.dns.servers);
      for (const s of dns.servers) if (netModule().isIP(s) === 0) throw new InvalidOptionError("dns.servers", `${JSON.stringify(s)} is not an IP address`);
    }
    if (options.dns.search !== undefined) dns.search = strings("dns.search", options.dns.search);
    if (options.dns.options !== undefined) dns.options = strings("dns.options", options.dns.options);
    settings.dns = dns;
  }
  if (options.domainname !== undefined) {
    if (typeof options.domainname !== "string" || !hostPattern.test(options.domainname) || options.domainname.length > 64) {
      throw new InvalidOptionError("domainname", `${JSON.stringify(options.domainname)} is not a domain name (letters, digits, "-" and ".", at most 64 characters)`);
    }
    settings.domainname = options.domainname;
  }
  for (const [name, value] of Object.entries(options.sysctls ?? {})) {
    const option = `sysctls.${name}`;
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(name)) throw new InvalidOptionError(option, `${JSON.stringify(name)} is not a sysctl name such as "net.core.somaxconn"`);
    const ipc = ipcSysctls.has(name) || name.startsWith("fs.mqueue.");
    const net = name.startsWith("net.");
    if (!ipc && !net) throw new InvalidOptionError(option, `only sysctls of the container's own namespaces may be set (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), as Docker allows; set ${name} on the host instead`);
    if (net && network === "host") throw new InvalidOptionError(option, `net.* sysctls would change the host's network namespace (network: "host"); drop the sysctl or the host network`);
    if (net && network === "shared") throw new InvalidOptionError(option, "net.* sysctls would change the network namespace of the container this one shares; set them on that container");
    if ((typeof value !== "string" && typeof value !== "number") || /[\n\0]/.test(String(value))) throw new InvalidOptionError(option, "must be a string or a number");
    settings.sysctls.push([name, String(value)]);
  }
  for (const [name, spec] of Object.entries(options.ulimits ?? {})) {
    const option = `ulimits.${name}`;
    const resource = rlimitResources[name];
    if (resource === undefined) throw new InvalidOptionError(option, `${JSON.stringify(name)} is not a limit; use one of ${Object.keys(rlimitResources).join(", ")}`);
    const [soft, hard] = typeof spec === "number" ? [spec, spec] : [spec?.soft, spec?.hard];
    for (const v of [soft, hard]) if (typeof v !== "number" || !Number.isSafeInteger(v) || v < -1) throw new InvalidOptionError(option, `${JSON.stringify(spec)} must be a whole number, or { soft, hard } (-1 for unlimited)`);
    if (hard !== -1 && (soft === -1 || soft! > hard!)) throw new InvalidOptionError(option, `the soft limit ${soft} is above the hard limit ${hard}`);
    settings.rlimits.push([resource, soft!, hard!]);
  }
  if (options.shmSize !== undefined) {
    const bytes = parseBytes("shmSize", options.shmSize);
    if (bytes <= 0) throw new InvalidOptionError("shmSize", `${String(options.shmSize)} must be a positive size such as "256m"`);
    settings.shmSizeBytes = bytes;
  }
  return settings;
}

/**
 * The /etc/hosts lines of the extra hosts.
 *
 * @example
 * ```ts
 * extraHostLines([["api.test", "127.0.0.1"]]); // "127.0.0.1\tapi.test\n"
 * ```
 */
/**
 * An extra host written "host:address" or "host=address" (docker's and compose's forms; the
 * host name has no colon, so an IPv6 address keeps its own, brackets dropped); undefined when
 * it has neither separator.
 *
 * @example
 * ```ts
 * splitExtraHost("db:10.0.0.5"); // ["db", "10.0.0.5"]
 * ```
 */
export function splitExtraHost(text: string): [string, string] | undefined {
  const sep = /[=:]/.exec(text);
  if (sep === null) return undefined;
  return [text.slice(0, sep.index), text.slice(sep.index + 1).replace(/^\[(.*)\]$/, "$1")];
}

export function extraHostLines(hosts: readonly [string, string][]): string {
  return hosts.map(([host, address]) => `${address}\t${host}\n`).join("");
}

/**
 * resolv.conf with `dns` applied over the host's (whose loopback nameservers are unreachable).
 *
 * @example
 * ```ts
 * resolvConfWith("nameserver 10.0.0.1\n", { search: ["corp"] }); // "nameserver 10.0.0.1\nsearch corp\n"
 * ```
 */
export function resolvConfWith(hostText: string, dns: DnsOptions | undefined): string {
  if (dns === undefined) return hostText;
  const keep = hostText.split("\n").filter((l) => l.trim() !== "" && !(dns.servers && /^\s*nameserver\s/.test(l)) && !(dns.search && /^\s*(search|domain)\s/.test(l)) && !(dns.options && /^\s*options\s/.test(l)));
  const lines = [...keep, ...(dns.servers ?? []).map((s) => `nameserver ${s}`)];
  if (dns.search && dns.search.length > 0) lines.push(`search ${dns.search.join(" ")}`);
  if (dns.options && dns.options.length > 0) lines.push(`options ${dns.options.join(" ")}`);
  return `${lines.join("\n")}\n`;
}
