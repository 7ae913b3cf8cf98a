/**
 * The `bento run` flags about the system a container sees and what it may do, with docker's
 * names: its hostname, hosts and DNS, devices, privileged, ulimits, sysctls, /dev/shm and how it
 * is stopped. Each maps onto the ContainerOptions field of the same meaning, whose own checks
 * reject bad values with an error naming the field.
 */
import type { ContainerOptions } from "../container/options.js";
import { splitExtraHost, type UlimitSpec } from "../container/system-options.js";
import { UsageError, type OptionsConfig } from "./args.js";

/** Their lines in `bento run --help`. */
export const systemRunUsage = `      --hostname NAME       the container's hostname (-h is --help, as in every bento command)
      --add-host HOST:IP    add a line to /etc/hosts (repeatable)
      --dns IP              a nameserver for /etc/resolv.conf (repeatable)
      --dns-search DOMAIN   a search domain (repeatable)
      --dns-option OPT      a resolver option, such as ndots:2 (repeatable)
      --privileged          every capability, every host device, no seccomp filter
      --device HOST[:CONTAINER][:PERMS]
                            give it a host device node (PERMS: some of r, w, m)
      --ulimit NAME=SOFT[:HARD]
                            a resource limit, such as nofile=1024:2048 (repeatable)
      --sysctl KEY=VALUE    a namespaced kernel setting, such as net.core.somaxconn=1024
      --shm-size BYTES      the size of /dev/shm, as 64m
      --stop-signal SIGNAL  the signal that stops it (default: the image's, else SIGTERM)
      --stop-timeout SECS   how long stop waits before SIGKILL (default 10)
`;

/** Their definitions, for `util.parseArgs`. */
export const systemRunOptions = {
  hostname: { type: "string" },
  "add-host": { type: "string", multiple: true },
  dns: { type: "string", multiple: true },
  "dns-search": { type: "string", multiple: true },
  "dns-option": { type: "string", multiple: true },
  privileged: { type: "boolean" },
  device: { type: "string", multiple: true },
  ulimit: { type: "string", multiple: true },
  sysctl: { type: "string", multiple: true },
  "shm-size": { type: "string" },
  "stop-signal": { type: "string" },
  "stop-timeout": { type: "string" },
} as const satisfies OptionsConfig;

interface SystemRunValues {
  hostname?: string;
  "add-host"?: string[];
  dns?: string[];
  "dns-search"?: string[];
  "dns-option"?: string[];
  privileged?: boolean;
  device?: string[];
  ulimit?: string[];
  sysctl?: string[];
  "shm-size"?: string;
  "stop-signal"?: string;
  "stop-timeout"?: string;
}

/** Splits "KEY<sep>VALUE" at the first `sep`, or fails naming the flag and the form. */
function pair(flag: string, value: string, sep: string, form: string, usage: string): [string, string] {
  const at = value.indexOf(sep);
  if (at <= 0) throw new UsageError(`${flag} "${value}": expected ${form}`, usage);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** docker's --ulimit value: NAME=N or NAME=SOFT:HARD (-1 for unlimited). */
function ulimit(value: string, usage: string): [string, UlimitSpec] {
  const [name, limits] = pair("--ulimit", value, "=", "NAME=SOFT[:HARD], such as nofile=1024:2048", usage);
  const numbers = limits.split(":");
  if (numbers.length > 2 || numbers.some((n) => !/^-?\d+$/.test(n))) throw new UsageError(`--ulimit "${value}": the limits must be whole numbers, SOFT or SOFT:HARD (-1 for unlimited)`, usage);
  const [soft, hard = soft] = numbers.map(Number) as [number, number?];
  return [name, soft === hard ? soft : { soft, hard }];
}

/** Adds what the flags ask for to `options`. */
export function applySystemRunFlags(values: SystemRunValues, options: ContainerOptions, usage: string): void {
  if (values.hostname !== undefined) options.hostname = values.hostname;
  if (values["add-host"]) {
    options.extraHosts = Object.fromEntries(
      values["add-host"].map((h) => {
        const split = splitExtraHost(h);
        if (split === undefined || split[0] === "") throw new UsageError(`--add-host "${h}": expected HOST:IP, such as db:10.0.0.5`, usage);
        return split;
      }),
    );
  }
  if (values.dns || values["dns-search"] || values["dns-option"]) {
    options.dns = {
      ...(values.dns ? { servers: values.dns } : {}),
      ...(values["dns-search"] ? { search: values["dns-search"] } : {}),
      ...(values["dns-option"] ? { options: values["dns-option"] } : {}),
    };
  }
  if (values.privileged) options.privileged = true;
  if (values.device) options.devices = values.device;
  if (values.ulimit) options.ulimits = Object.fromEntries(values.ulimit.map((u) => ulimit(u, usage)));
  if (values.sysctl) options.sysctls = Object.fromEntries(values.sysctl.map((s) => pair("--sysctl", s, "=", "KEY=VALUE, such as net.core.somaxconn=1024", usage)));
  if (values["shm-size"] !== undefined) options.shmSize = values["shm-size"];
  if (values["stop-signal"] !== undefined) options.stopSignal = values["stop-signal"];
  if (values["stop-timeout"] !== undefined) {
    const seconds = Number(values["stop-timeout"]);
    if (!/^\d+$/.test(values["stop-timeout"]) || !Number.isSafeInteger(seconds)) throw new UsageError(`--stop-timeout "${values["stop-timeout"]}": expected whole seconds, such as 30`, usage);
    options.stopTimeoutMs = seconds * 1000;
  }
}
