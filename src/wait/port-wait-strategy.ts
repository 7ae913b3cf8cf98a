/**
 * Waits for TCP ports to listen inside the container's network namespace.
 */
import { BentoError, InvalidOptionError } from "../errors.js";
import { listeningPortsSync } from "./listening-ports.js";
import { pollDelayMs } from "./poll-schedule.js";
import type { WaitContext, WaitStrategy } from "./wait-strategy.js";

/**
 * Ready once every port has a LISTEN socket inside the container, read from the host in
 * `/proc/<pid>/net/tcp` and `tcp6` of the container's PID 1 (its network namespace). That is where
 * the server listens; the host-side proxy accepts connections before the server is up, so a
 * connect through the published port proves nothing. Without a port: every published or
 * EXPOSE'd TCP port. The kernel offers no event for a socket that starts listening (inotify does
 * not see procfs; sock_diag answers queries only), so it looks every millisecond at first, and
 * less often as the wait grows long (see poll-schedule.ts).
 *
 * @example
 * ```ts
 * new Container(image, { ports: [5432], wait: Wait.forPort() });
 * ```
 */
export class PortWaitStrategy implements WaitStrategy {
  readonly description: string;

  constructor(private readonly port?: number) {
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw new InvalidOptionError("Wait.forPort.port", `${String(port)} is not a TCP port (1 to 65535)`);
    }
    this.description = port === undefined ? "every published or exposed TCP port" : `port ${port}/tcp`;
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    const wanted = this.port === undefined ? [...context.defaultPorts] : [this.port];
    if (wanted.length === 0) {
      throw new BentoError("ERR_INVALID_OPTION", "Wait.forPort(): the container publishes and exposes no TCP port; name the port, e.g. Wait.forPort(8080)");
    }
    const began = performance.now();
    for (;;) {
      let listening: number[] | undefined;
      try {
        listening = listeningPortsSync(context.pid);
        context.noteListeningPorts(listening);
      } catch {
        // PID 1 is gone: the container is exiting, which the start reports.
      }
      const missing = wanted.filter((p) => !listening?.includes(p));
      if (listening !== undefined && missing.length === 0) return;
      context.note(this.description, `not listening yet: ${missing.map((p) => `${p}/tcp`).join(", ")}`);
      await context.sleep(pollDelayMs(performance.now() - began));
    }
  }
}
