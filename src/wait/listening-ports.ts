/**
 * TCP ports that listen inside a container, read from the host: `/proc/<pid>/net/tcp` and
 * `tcp6` show the sockets of the network namespace that process `pid` is in (proc(5)).
 */
import { readFileSync } from "node:fs";

/** The `st` column of a listening socket in /proc/net/tcp (TCP_LISTEN in include/net/tcp_states.h). */
const TCP_LISTEN = "0A";

/**
 * The local ports of LISTEN sockets in the text of a `/proc/net/tcp` or `/proc/net/tcp6` file,
 * sorted and without duplicates.
 *
 * @example
 * ```ts
 * parseListeningPorts("  sl  local_address ...\n   0: 00000000:1F90 00000000:0000 0A ..."); // [8080]
 * ```
 */
export function parseListeningPorts(text: string): number[] {
  const ports = new Set<number>();
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== TCP_LISTEN) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * The TCP ports (IPv4 and IPv6) that listen in the network namespace of process `pid`: two small procfs reads that take tens of
 * microseconds, where the promise API costs several thread-pool round trips per file. Readiness
 * polls every millisecond use it. Throws when the process is gone.
 *
 * @example
 * ```ts
 * listeningPortsSync(running.pid!).includes(6379);
 * ```
 */
export function listeningPortsSync(pid: number): number[] {
  const texts = ["tcp", "tcp6"].map((file) => {
    try {
      return readFileSync(`/proc/${pid}/net/${file}`, "utf8");
    } catch (error) {
      if (file === "tcp6" && (error as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw error;
    }
  });
  return [...new Set(texts.flatMap(parseListeningPorts))].sort((a, b) => a - b);
}
