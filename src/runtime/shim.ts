/**
 * A container's running shim, seen from the SDK: start it with a compiled plan, learn when the
 * payload runs or why it could not, send it signals, and receive the final exit status.
 */
import type { Readable, Writable } from "node:stream";
import { BentoError } from "../errors.js";
import { loadAddon } from "../native/load.js";
import { HelperProcess, type HelperEvent } from "../native/helper-process.js";
import type { CgroupDriver } from "./cgroup/driver.js";
import type { CompiledPlan } from "./container-plan.js";
import { decodeWaitStatus, type ExitStatus, systemCallErrorOf } from "./wait-status.js";

/** Which of the container's streams Node holds while it runs (not for a detached one). */
export interface ShimStreams {
  /** Node writes the payload's stdin (the terminal's input with a tty). */
  stdin: boolean;
  /** Node reads the terminal's output as it comes. */
  terminal: boolean;
}

/** Resolves once `stream` ended, or at once when nobody reads it (its data then stays unread). */
function drained(stream: Readable | null): Promise<void> {
  if (stream === null || stream.readableFlowing !== true || stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
  });
}

/** A shim whose payload is running. */
export class RunningShim {
  /** Resolves once the payload ended, the shim exited and the cgroups are gone. */
  readonly exited: Promise<ExitStatus>;

  private constructor(
    private readonly helper: HelperProcess,
    /** The host pid of the container's PID 1. */
    readonly initPid: number,
    /** The raw socket on which the shim hands out connections made inside the container. */
    readonly portChannel: number,
    exited: Promise<ExitStatus>,
    /** Resolves once the container's cgroups are removed too (after `exited`). */
    readonly cleanedUp: Promise<void>,
    /** The payload's stdin (its terminal's input with a tty), when Node holds it. */
    readonly stdin: Writable | null,
    /** The terminal's output as it comes (it is in the log too), when Node holds it. */
    readonly terminalOutput: Readable | null,
  ) {
    this.exited = exited;
  }

  /**
   * Starts a container's shim and resolves once its payload is running. Rejects with a
   * SystemCallError naming the failed step; by then the shim is gone and the cgroups removed.
   */
  static async start(context: string, id: string, plan: CompiledPlan, driver: CgroupDriver, lockFd: number, debug: boolean, streams: ShimStreams, beforeRun?: (initPid: number) => Promise<void>): Promise<RunningShim> {
    const helper = HelperProcess.start({ role: "shim", plan: plan.records, stdio: [streams.stdin ? "socket" : "null", streams.terminal ? "socket" : "null", debug ? 2 : "null"], extraFds: [lockFd, "socket"] });
    // A running container alone must not keep Node alive (waiting for it does).
    const [stdin, terminalOutput] = [helper.stdio[0] ?? null, helper.stdio[1] ?? null];
    stdin?.unref();
    stdin?.on("error", () => undefined); // a payload that stopped reading
    terminalOutput?.unref();
    const portChannel = helper.extraSockets[1]!;
    let payloadStatus: number | undefined;
    let initPid = 0;
    let failure: HelperEvent | undefined;
    helper.on("event", (e: HelperEvent) => {
      if (e.event === "spawned") initPid = e.pid ?? 0;
      else if (e.event === "exit") payloadStatus = e.status;
      else if ((e.event === "error" || e.event === "fatal") && failure === undefined) failure = e;
    });
    const shimExit = helper.waitFor((e) => e.event === "shim-exit", { keepAlive: false });
    let cgroupsGone: Promise<void> = Promise.resolve();
    const exited = (async (): Promise<ExitStatus> => {
      const last = await shimExit;
      // The shim is exiting: reap it in the background (watching keeps Node alive until then);
      // the terminal's last output, still on its way, is read before its socket closes.
      void Promise.all([helper.exited(), drained(terminalOutput)]).then(() => helper.close());
      loadAddon().closeChannel(portChannel);
      // The shim read the OOM counter and removed the cgroups before it said so; if it could
      // not (it crashed, or a cgroup stayed busy), do it here, in the background for removal.
      // oomKills is -1 when there is no counter: no memory cgroup, so no cgroup OOM kill either.
      const oomKilled = last?.oomKills !== undefined ? last.oomKills > 0 : await driver.oomKilled(id).catch(() => false);
      if (last?.cgroupsRemoved !== true) {
        cgroupsGone = driver.remove(id);
        cgroupsGone.catch(() => undefined);
      }
      return decodeWaitStatus(payloadStatus ?? last?.initStatus ?? 0x9, oomKilled);
    })();
    if (beforeRun) {
      // The plan says "hold": the shim waits for our go between clone and running the payload.
      const spawned = await helper.waitFor((e) => e.event === "spawned" || e.event === "error" || e.event === "fatal");
      if (spawned?.event === "spawned") {
        try {
          await beforeRun(spawned.pid ?? 0);
        } catch (error) {
          helper.close();
          await exited;
          await cgroupsGone;
          throw error;
        }
        helper.send("go\n");
      }
    }
    const first = await helper.waitFor((e) => e.event === "ready" || e.event === "error" || e.event === "fatal" || e.event === "shim-exit");
    const cleaned = exited.then(() => cgroupsGone);
    if (first?.event === "ready") return new RunningShim(helper, initPid, portChannel, exited, cleaned, stdin, terminalOutput);
    const status = await exited;
    await cleaned;
    if (failure?.event === "error") throw systemCallErrorOf(context, failure, (i) => plan.describe(i));
    const reason = failure?.message ?? `the helper exited before the container ran (status ${JSON.stringify(status)})`;
    throw new BentoError("ERR_RUNTIME", `${context}: ${reason}`);
  }

  /** Keeps Node alive while `pending` (something about this container) is awaited. */
  keepAlive<T>(pending: Promise<T>): Promise<T> {
    return this.helper.keepAlive(pending);
  }

  /**
   * Asks the shim to publish UDP `containerPort` on `hostPort` of `hostIp` (default 127.0.0.1
   * and ::1); resolves with 0, or the errno of the failed bind (such as EADDRINUSE).
   */
  async publishUdp(hostPort: number, containerPort: number, hostIp?: string): Promise<number> {
    return this.publish("udp", hostPort, containerPort, hostIp);
  }

  /**
   * Asks the shim to listen on TCP `hostPort` itself and relay to `containerPort`, as it does for
   * UDP: for a detached container, whose starter's proxy ends with the starter.
   */
  async publishTcp(hostPort: number, containerPort: number, hostIp?: string): Promise<number> {
    return this.publish("tcp", hostPort, containerPort, hostIp);
  }

  private async publish(protocol: "udp" | "tcp", hostPort: number, containerPort: number, hostIp: string | undefined): Promise<number> {
    const reply = this.helper.waitFor((e) => e.event === protocol && e.port === hostPort);
    this.helper.send(`${protocol} ${hostPort} ${containerPort}${hostIp === undefined ? "" : ` ${hostIp}`}\n`);
    const event = await reply;
    return event === null ? 32 /* EPIPE: the shim is gone */ : (event.errno ?? 0);
  }

  /** Sets the terminal's window size; the kernel tells its foreground processes (SIGWINCH). */
  resize(rows: number, columns: number): void {
    this.helper.send(`resize ${rows} ${columns}\n`);
  }

  /** Sends a signal to the container's PID 1 (bento's init forwards it to the payload). */
  signal(signal: number): void {
    this.helper.signal(signal);
  }
}
