/**
 * The readiness check of the postgres module: a query that succeeds, as a client would run it.
 * `pg_isready` in the container (an exec per look, 100 ms apart) or a log line (printed twice when
 * the image initializes at start, and racing the port) would add tens of milliseconds or be wrong.
 */
import { BentoError } from "../errors.js";
import { listeningPortsSync } from "../wait/listening-ports.js";
import { pollDelayMs } from "../wait/poll-schedule.js";
import type { WaitContext, WaitStrategy } from "../wait/wait-strategy.js";
import { PostgresWireClient } from "./postgres-wire.js";

/** Who {@link PostgresReadyWait} connects as. */
export interface PostgresReadyOptions {
  /** The container port the server listens on. */
  port: number;
  /** The user to log in as. */
  user: string;
  /** Its password. */
  password: string;
  /** The database to connect to. */
  database: string;
}

/**
 * Ready once `SELECT 1` succeeds through the published port, as `user` in `database`. It first
 * waits, without connecting, until the port listens inside the container (the official image's
 * temporary init server listens on its Unix socket only, so the TCP listener is the final
 * server's), then connects; a server that still starts up (SQLSTATE 57P03) is asked again. Looks
 * every millisecond at first (see wait/poll-schedule.ts).
 *
 * @example
 * ```ts
 * new Container(image, { ports: [5432], wait: new PostgresReadyWait({ port: 5432, user: "test", password: "test", database: "test" }) });
 * ```
 */
export class PostgresReadyWait implements WaitStrategy {
  readonly description: string;

  constructor(private readonly options: PostgresReadyOptions) {
    this.description = `postgres to answer a query on port ${options.port}/tcp`;
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    const { port, user, password, database } = this.options;
    const hostPort = context.hostPort(port);
    if (hostPort === undefined) throw new BentoError("ERR_INVALID_OPTION", `the postgres wait needs container port ${port} published; add it to the container's ports`);
    const began = performance.now();
    for (;;) {
      let listening = false;
      try {
        listening = listeningPortsSync(context.pid).includes(port);
      } catch {
        // PID 1 is gone: the container is exiting, which the start reports.
      }
      if (listening) {
        try {
          const client = await PostgresWireClient.connect({ host: context.host, port: hostPort, user, password, database, connectTimeoutMs: 5000 });
          try {
            await client.query("SELECT 1");
            return;
          } finally {
            await client.close();
          }
        } catch (error) {
          context.signal.throwIfAborted();
          const code = (error as { sqlState?: string }).sqlState;
          // 28xxx: authentication failed; 3D000: no such database. Waiting cannot fix those.
          if (code !== undefined && (code.startsWith("28") || code === "3D000")) throw error;
          context.note(this.description, `last try: ${(error as Error).message}`);
        }
      } else {
        context.note(this.description, `port ${port}/tcp not listening yet`);
      }
      await context.sleep(pollDelayMs(performance.now() - began));
    }
  }
}
