/**
 * Waits for an HTTP answer through a published port.
 */
import { httpModule } from "../deps.js";
import { BentoError, InvalidOptionError } from "../errors.js";
import type { WaitContext, WaitStrategy } from "./wait-strategy.js";

const pollMs = 100;

/** Options of {@link Wait.forHttp}. */
export interface HttpWaitOptions {
  /** The status (or statuses) that mean ready; default any 2xx. */
  status?: number | number[];
  /** The request method (default "GET"). */
  method?: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** What the response body must contain (a string) or match (a RegExp); default anything. */
  body?: string | RegExp;
  /** A body to send with the request. */
  requestBody?: string;
  /** How long one request may take before it counts as a failure and is retried (default 5000 ms). */
  requestTimeoutMs?: number;
}

interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * Ready once a request to `http://127.0.0.1:<host port><path>` (the published port of container
 * port `port`) answers with an expected status and body. Connection errors and other answers are
 * retried every 100 ms.
 *
 * @example
 * ```ts
 * new Container(image, { ports: [8080], wait: Wait.forHttp("/health", 8080, { status: 204 }) });
 * ```
 */
export class HttpWaitStrategy implements WaitStrategy {
  readonly description: string;
  private readonly statuses: readonly number[] | undefined;
  private readonly bodyMatches: (body: string) => boolean;

  constructor(
    private readonly path: string,
    private readonly port: number,
    private readonly options: HttpWaitOptions = {},
  ) {
    if (typeof path !== "string" || !path.startsWith("/")) throw new InvalidOptionError("Wait.forHttp.path", `"${String(path)}" must start with "/"`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidOptionError("Wait.forHttp.port", `${String(port)} is not a TCP port (1 to 65535)`);
    const statuses = options.status === undefined ? undefined : [options.status].flat();
    if (statuses?.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) throw new InvalidOptionError("Wait.forHttp.status", `${String(options.status)} must be HTTP statuses (100 to 599)`);
    const timeout = options.requestTimeoutMs ?? 5000;
    if (!Number.isFinite(timeout) || timeout <= 0) throw new InvalidOptionError("Wait.forHttp.requestTimeoutMs", `${timeout} must be a positive number of milliseconds`);
    const body = options.body;
    if (body instanceof RegExp) {
      const re = new RegExp(body.source, body.flags.replace(/[gy]/g, ""));
      this.bodyMatches = (text) => re.test(text);
    } else if (typeof body === "string") {
      this.bodyMatches = (text) => text.includes(body);
    } else {
      this.bodyMatches = () => true;
    }
    this.statuses = statuses;
    this.options = { ...options, method: (options.method ?? "GET").toUpperCase(), requestTimeoutMs: timeout };
    const expect = [statuses ? `status ${statuses.join(" or ")}` : "a 2xx status", body === undefined ? "" : `a body matching ${body instanceof RegExp ? String(body) : JSON.stringify(body)}`];
    this.description = `HTTP ${this.options.method} ${path} on port ${port} to answer ${expect.filter(Boolean).join(" and ")}`;
    Object.freeze(this);
  }

  async waitUntilReady(context: WaitContext): Promise<void> {
    const hostPort = context.hostPort(this.port);
    if (hostPort === undefined) {
      throw new BentoError("ERR_INVALID_OPTION", `Wait.forHttp(): container port ${this.port} is not published; add it to the ports option`);
    }
    const url = `http://${context.host}:${hostPort}${this.path}`;
    for (;;) {
      try {
        const answer = await this.ask(url, context.signal);
        if (this.accepts(answer)) return;
        context.note(this.description, `last answer: status ${answer.status}, body ${JSON.stringify(answer.body.slice(0, 100))}`);
      } catch (error) {
        context.signal.throwIfAborted();
        context.note(this.description, `last attempt: ${(error as Error).message}`);
      }
      await context.sleep(pollMs);
    }
  }

  private accepts(answer: HttpAnswer): boolean {
    const statusOk = this.statuses ? this.statuses.includes(answer.status) : answer.status >= 200 && answer.status < 300;
    return statusOk && this.bodyMatches(answer.body);
  }

  private ask(url: string, signal: AbortSignal): Promise<HttpAnswer> {
    const { method, headers, requestBody, requestTimeoutMs } = this.options;
    return new Promise<HttpAnswer>((resolve, reject) => {
      // agent: false, so no pooled keep-alive socket outlives the wait.
      const req = httpModule().request(url, { method, headers, agent: false, signal, timeout: requestTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)));
      req.on("error", reject);
      req.end(requestBody);
    });
  }
}
