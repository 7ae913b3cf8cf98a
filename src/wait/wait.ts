/**
 * The factories of wait strategies (testcontainers' `wait-strategies/wait.ts` has the same role):
 * `Wait.forLog`, `forPort`, `forHttp`, `forHealthy`, `forCommand`, `forExit`, `forAll`.
 */
import { CommandWaitStrategy } from "./command-wait-strategy.js";
import { CompositeWaitStrategy } from "./composite-wait-strategy.js";
import { ExitWaitStrategy, type ExitWaitOptions } from "./exit-wait-strategy.js";
import { HealthWaitStrategy } from "./health-wait-strategy.js";
import { HttpWaitStrategy, type HttpWaitOptions } from "./http-wait-strategy.js";
import { LogWaitStrategy, type LogWaitOptions } from "./log-wait-strategy.js";
import { PortWaitStrategy } from "./port-wait-strategy.js";
import type { WaitStrategy } from "./wait-strategy.js";

/**
 * How `start()` tells that a container is ready. Every wait shares the container's one startup
 * deadline (`startupTimeoutMs`, times `BENTO_TIMEOUT_SCALE`), and a container that exits while
 * the start waits fails the start at once (except with {@link Wait.forExit}).
 *
 * @example
 * ```ts
 * await new Container(image, { ports: [8080], wait: Wait.forHttp("/ready", 8080), startupTimeoutMs: 30_000 }).start();
 * ```
 */
export class Wait {
  private constructor() {}

  /**
   * Waits for a line of output that contains `text` (or matches a RegExp), `times` times.
   *
   * @example
   * ```ts
   * Wait.forLog("database system is ready to accept connections", { times: 2 });
   * ```
   */
  static forLog(text: string | RegExp, options: LogWaitOptions = {}): WaitStrategy {
    return new LogWaitStrategy(text, options);
  }

  /**
   * Waits for a TCP port to listen inside the container (its network namespace); without a port,
   * for every published or EXPOSE'd TCP port.
   *
   * @example
   * ```ts
   * Wait.forPort(6379);
   * ```
   */
  static forPort(port?: number): WaitStrategy {
    return new PortWaitStrategy(port);
  }

  /**
   * Waits for an HTTP request through the published port of container port `port` to answer with
   * an expected status (default any 2xx) and body.
   *
   * @example
   * ```ts
   * Wait.forHttp("/health", 8080, { status: 200, body: /"status":"up"/ });
   * ```
   */
  static forHttp(path: string, port: number, options: HttpWaitOptions = {}): WaitStrategy {
    return new HttpWaitStrategy(path, port, options);
  }

  /**
   * Waits for the healthcheck (the image's HEALTHCHECK or the container's `healthcheck` option)
   * to report healthy; fails once it reports unhealthy.
   *
   * @example
   * ```ts
   * new Container(image, { healthcheck: { test: "pg_isready", intervalMs: 250 }, wait: Wait.forHealthy() });
   * ```
   */
  static forHealthy(): WaitStrategy {
    return new HealthWaitStrategy();
  }

  /**
   * Waits for a command run in the container to exit with 0 (run again after each failure).
   *
   * @example
   * ```ts
   * Wait.forCommand(["redis-cli", "ping"]);
   * ```
   */
  static forCommand(argv: string[]): WaitStrategy {
    return new CommandWaitStrategy(argv);
  }

  /**
   * Waits for a one-shot container to exit with `code` (default 0).
   *
   * @example
   * ```ts
   * await new Container(migrations, { wait: Wait.forExit({ code: 0 }) }).start();
   * ```
   */
  static forExit(options: ExitWaitOptions = {}): WaitStrategy {
    return new ExitWaitStrategy(options);
  }

  /**
   * Waits for every strategy, side by side.
   *
   * @example
   * ```ts
   * Wait.forAll([Wait.forPort(5432), Wait.forLog("ready")]);
   * ```
   */
  static forAll(strategies: WaitStrategy[]): WaitStrategy {
    return new CompositeWaitStrategy(strategies);
  }
}
