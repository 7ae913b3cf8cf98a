/**
 * The wait phase of a container start: runs the wait strategy against one deadline, fails at once
 * when the container exits, and turns any failure into a StartupError that carries what is needed
 * to understand it (exit status, OOM, log tail, healthcheck history, listening ports).
 */
import { debug } from "../debug.js";
import { BentoError, StartupError, type StartupPhase } from "../errors.js";
import type { ImageConfig } from "../image/config.js";
import type { LogLine } from "../runtime/logs.js";
import type { ExitStatus } from "../runtime/wait-status.js";
import type { Deadline } from "./deadline.js";
import { healthMonitorOf } from "./healthcheck.js";
import { followLogFile } from "./log-follower.js";
import { WaitTimeoutError } from "./wait-timeout-error.js";
import { abortableSleep, untilAborted, type WaitContext, type WaitExecResult, type WaitStrategy } from "./wait-strategy.js";

/**
 * What the wait phase reads of a starting container (a container instance is one). The
 * container layer sits above wait/ and passes itself in.
 *
 * @example
 * ```ts
 * await waitForStartup(instance satisfies StartupTarget, Wait.forPort(8080), deadline);
 * ```
 */
export interface StartupTarget {
  readonly name: string;
  readonly status: string;
  readonly lastExit: ExitStatus | undefined;
  readonly pid: number | undefined;
  /** Its published ports. */
  readonly ports: readonly { container: number; protocol: string }[];
  readonly source: { readonly config: Pick<ImageConfig, "ExposedPorts"> };
  readonly spec: { readonly logFile: string };
  hostPort(port: number, protocol: "tcp"): number | undefined;
  exec(argv: string[]): Promise<WaitExecResult>;
  logLines(options: { tail: number }): Promise<LogLine[]>;
}

/** How often the start looks whether the container exited (the instance has no exit event that leaves Node free to exit). */
const exitPollMs = 20;

/** The container's published and EXPOSE'd TCP ports. */
function defaultPorts(instance: StartupTarget): number[] {
  const published = instance.ports.filter((p) => p.protocol === "tcp").map((p) => p.container);
  const exposed = Object.keys(instance.source.config.ExposedPorts ?? {})
    .filter((key) => !key.includes("/") || key.endsWith("/tcp"))
    .map((key) => Number.parseInt(key, 10));
  return [...new Set([...published, ...exposed])].filter((p) => Number.isInteger(p)).sort((a, b) => a - b);
}

/** Resolves once the container's run has ended; stops looking when `signal` aborts. */
function watchExit(instance: StartupTarget, signal: AbortSignal): Promise<ExitStatus> {
  return new Promise((resolve) => {
    const look = () => {
      if (signal.aborted) return;
      if (instance.status !== "running" && instance.lastExit !== undefined) return resolve(instance.lastExit);
      setTimeout(look, exitPollMs).unref();
    };
    look();
  });
}

/** The last `count` lines the container wrote, without their newlines. */
async function logTail(instance: StartupTarget, count = 50): Promise<string[]> {
  try {
    return (await instance.logLines({ tail: count })).map((l) => (l.text.endsWith("\n") ? l.text.slice(0, -1) : l.text));
  } catch {
    return [];
  }
}

/**
 * The StartupError of a phase (build, setup) that the deadline cut short.
 *
 * @example
 * ```ts
 * await deadline.race(resolveImage(image), () => phaseTimeout("web", "build", deadline, "the image build"));
 * ```
 */
export function phaseTimeout(container: string, phase: StartupPhase, deadline: Deadline, waitingFor: string): StartupError {
  const cause = new WaitTimeoutError(deadline.timeoutMs, deadline.describe(), waitingFor);
  return new StartupError(container, { phase, timedOut: true, waitingFor }, { cause });
}

/**
 * Waits until `strategy` finds the started container ready, by the deadline. Rejects with a
 * StartupError (phase "wait") when the deadline passes, the container exits (unless the strategy
 * waits for that) or the strategy fails. The caller removes the container.
 *
 * @example
 * ```ts
 * await waitForStartup(instance, Wait.forPort(8080), Deadline.start(60_000, config().timeoutScale));
 * ```
 */
export async function waitForStartup(instance: StartupTarget, strategy: WaitStrategy, deadline: Deadline): Promise<void> {
  const controller = new AbortController();
  const { signal } = controller;
  const notes = new Map<string, string>();
  let listening: number[] | undefined;
  const exited = watchExit(instance, signal);
  const health = healthMonitorOf(instance);
  const context: WaitContext = {
    name: instance.name,
    signal,
    pid: instance.pid ?? 0,
    host: "127.0.0.1",
    defaultPorts: defaultPorts(instance),
    hostPort: (port) => instance.hostPort(port, "tcp"),
    exec: (argv) => instance.exec(argv),
    logLines: () => followLogFile(instance.spec.logFile, { signal, finished: () => instance.status !== "running" }),
    exited,
    health,
    sleep: (ms) => abortableSleep(ms, signal),
    note: (description, observation) => void notes.set(description, observation),
    noteListeningPorts: (ports) => void (listening = [...ports]),
  };
  const progress = () => [...notes].map(([description, observation]) => (notes.size > 1 ? `${description}: ${observation}` : observation));
  const cancelTimer = deadline.onExpiry(() => controller.abort(new WaitTimeoutError(deadline.timeoutMs, deadline.describe(), strategy.description, progress())));
  const exitedError = (exit: ExitStatus) => new BentoError("ERR_CONTAINER_EXITED", `the container ${exit.signal ? "was killed" : "exited"} while the start waited for ${strategy.description}`);
  if (!strategy.waitsForExit) void exited.then((exit) => controller.abort(exitedError(exit)));
  debug("wait", `${instance.name}: waiting for ${strategy.description} (${deadline.remainingMs()} ms left of ${deadline.describe()})`);
  const ready = strategy.waitUntilReady(context);
  ready.catch(() => undefined);
  try {
    await untilAborted(ready, signal);
    debug("wait", `${instance.name}: ready after ${deadline.elapsedMs()} ms`);
  } catch (error) {
    let cause = signal.aborted ? (signal.reason as unknown) : error;
    const exit = instance.status === "running" ? undefined : instance.lastExit;
    // A strategy may notice the exit (a closed log, a failed exec) before the exit watch does.
    if (exit !== undefined && !strategy.waitsForExit && !(cause instanceof WaitTimeoutError)) cause = exitedError(exit);
    debug("wait", `${instance.name}: not ready: ${(cause as Error).message}`);
    const state = health?.state();
    throw new StartupError(
      instance.name,
      {
        phase: "wait",
        ...(exit ? { exitCode: exit.exitCode, oomKilled: exit.oomKilled } : {}),
        ...(exit?.signal ? { signal: exit.signal } : {}),
        logTail: await logTail(instance),
        waitingFor: strategy.description,
        timedOut: cause instanceof WaitTimeoutError,
        ...(state ? { health: state } : {}),
        ...(listening ? { listeningPorts: listening } : {}),
      },
      { cause },
    );
  } finally {
    cancelTimer();
    if (!signal.aborted) controller.abort(new BentoError("ERR_WAIT_DONE", "the start stopped waiting"));
  }
}
