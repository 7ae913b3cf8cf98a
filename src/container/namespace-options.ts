/**
 * The `pid` and `ipc` options: a container's PID and IPC namespaces are its own by default, the
 * host's with "host", or another running container's with `{ container }`, as Docker's --pid and
 * --ipc (host, container:x; "shareable" and "private" keep its own).
 */
import { InvalidOptionError } from "../errors.js";
import { ContainerView } from "./container-view.js";

/**
 * A namespace of another container, named by that running container (Docker's `container:x`).
 *
 * @example
 * ```ts
 * new Container(image, { network: { container: db }, pid: { container: db } });
 * ```
 */
export interface ContainerNamespace {
  /** The running container (what `start()` returned) whose namespace this one enters. */
  container: ContainerView;
}

/** Where a namespace comes from: the host, or a running container. */
export type NamespaceSource = "host" | ContainerView;

/**
 * The PID namespace the `pid` option asks for; undefined: the container's own.
 *
 * @example
 * ```ts
 * pidNamespaceOf({ pid: "host" }); // "host"
 * ```
 */
export function pidNamespaceOf(options: { pid?: unknown }): NamespaceSource | undefined {
  return namespaceSource("pid", options.pid, []);
}

/**
 * The IPC namespace the `ipc` option asks for; undefined: the container's own ("private" and
 * "shareable" alike: any container may join a bento container's).
 *
 * @example
 * ```ts
 * ipcNamespaceOf({ ipc: { container: db } }); // db
 * ```
 */
export function ipcNamespaceOf(options: { ipc?: unknown; shmSize?: unknown; sysctls?: Record<string, unknown> | undefined }): NamespaceSource | undefined {
  const source = namespaceSource("ipc", options.ipc, ["private", "shareable"]);
  if (source === undefined) return undefined;
  const owner = source === "host" ? "the host" : source.name;
  if (options.shmSize !== undefined) throw new InvalidOptionError("shmSize", `the container uses the /dev/shm of ${owner} (ipc); drop shmSize, or set it where that /dev/shm is made`);
  for (const name of Object.keys(options.sysctls ?? {})) {
    if (!name.startsWith("net.")) throw new InvalidOptionError(`sysctls.${name}`, `would change the IPC namespace of ${owner} (ipc); drop the sysctl, or set it there`);
  }
  return source;
}

function namespaceSource(option: string, value: unknown, own: readonly string[]): NamespaceSource | undefined {
  if (value === undefined || own.includes(value as string)) return undefined;
  if (value === "host") return "host";
  if (typeof value === "object" && value !== null && "container" in value) {
    const target = (value as { container: unknown }).container;
    if (target instanceof ContainerView) return target;
    throw new InvalidOptionError(`${option}.container`, "must be a started container (what start() returned)");
  }
  const choices = [...own.map((o) => JSON.stringify(o)), '"host"', "{ container: runningContainer }"].join(", ");
  throw new InvalidOptionError(option, `${JSON.stringify(value)} is not a namespace; use ${choices}`);
}
