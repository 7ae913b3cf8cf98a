/**
 * One running bento-shim process (role "shim" or "exec"), seen from Node: its pid, its control
 * socket (plan down, JSON-line events up, commands down), its stdio sockets, and its exit.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { netModule } from "../deps.js";
import type { ChildExit, ChildFd } from "./addon.js";
import { helperPath, loadAddon } from "./load.js";
import { encodePlan, type PlanRecord } from "./plan-codec.js";

/** An event bento-shim reports; `event` names it, the other fields depend on it. */
export interface HelperEvent {
  event: "spawned" | "ready" | "error" | "exit" | "shim-exit" | "fatal" | "attached" | "udp" | "tcp";
  port?: number;
  oomKills?: number;
  cgroupsRemoved?: boolean;
  pid?: number;
  status?: number;
  initStatus?: number;
  phase?: string;
  step?: number;
  errno?: number;
  syscall?: string;
  path?: string;
  message?: string;
}

/** Options of {@link HelperProcess.start}. */
export interface HelperStartOptions {
  role: "shim" | "exec" | "network" | "userns" | "remove" | "owners";
  plan: readonly PlanRecord[];
  /** The helper's fds 0, 1, 2; "socket" makes a socket Node reads or writes. */
  stdio: [ChildFd, ChildFd, ChildFd];
  /** Extra fds from 4 on: a parent fd to pass (the container's lock file), or "socket". */
  extraFds?: ChildFd[];
}

export class HelperProcess extends EventEmitter {
  readonly pid: number;
  /** Node's ends of the stdio entries that were "socket", by fd number. */
  readonly stdio: (Socket | null)[];
  /** Node's raw ends of the extra fds that were "socket" (fd 4 on), by index; not wrapped. */
  readonly extraSockets: (number | null)[];
  private readonly pidfd: number;
  private reaped: Promise<ChildExit> | undefined;
  private readonly control: Socket;
  private buffered = "";
  private waiters = 0;

  private constructor(options: HelperStartOptions) {
    super();
    const addon = loadAddon();
    const fds: ChildFd[] = [...options.stdio, "socket", ...(options.extraFds ?? [])];
    // The control socket's process-wide copy keeps a container alive if the Worker that
    // started it ends; close() releases it.
    const plan = encodePlan(options.plan);
    const spawned = addon.spawnHelper({ file: helperPath(), argv: ["bento-shim", options.role, String(process.pid)], fds, keepOpen: 3, input: { fd: 3, data: plan } });
    this.pid = spawned.pid;
    this.pidfd = spawned.pidfd;
    this.stdio = spawned.sockets.slice(0, 3).map((fd) => (fd === null ? null : new (netModule().Socket)({ fd, readable: true, writable: true })));
    this.extraSockets = spawned.sockets.slice(4);
    this.control = new (netModule().Socket)({ fd: spawned.sockets[3]!, readable: true, writable: true });
    this.control.unref();
    this.control.setEncoding("utf8");
    this.control.on("data", (chunk: string) => this.onData(chunk));
    this.control.on("error", () => undefined);
    this.control.on("close", () => this.emit("closed"));
    if (spawned.inputWritten < plan.length) this.control.write(plan.subarray(spawned.inputWritten));
  }

  /** Spawns the helper and sends it the plan. Throws the addon's system error on failure. */
  static start(options: HelperStartOptions): HelperProcess {
    return new HelperProcess(options);
  }

  /**
   * Reaps the helper: resolves once it has exited. Watching keeps Node alive, so call this once
   * the helper said it is done (or its control socket closed).
   */
  exited(): Promise<ChildExit> {
    this.reaped ??= new Promise((resolve) => loadAddon().watchExit(this.pidfd, resolve));
    return this.reaped;
  }

  /** Sends one command line to the helper. */
  send(line: string): void {
    if (!this.control.destroyed) this.control.write(line);
  }

  /** Asks the helper to send `signal` to its child (init, or the exec'd process). */
  signal(signal: number): void {
    if (!this.control.destroyed) this.control.write(`signal ${signal}\n`);
  }

  /** Resolves with the first event matching `accept`, or null if the helper closes first. */
  waitFor(accept: (e: HelperEvent) => boolean, options: { keepAlive?: boolean } = {}): Promise<HelperEvent | null> {
    const found = new Promise<HelperEvent | null>((resolve) => {
      const onEvent = (e: HelperEvent) => {
        if (!accept(e)) return;
        this.off("event", onEvent);
        this.off("closed", onClosed);
        resolve(e);
      };
      const onClosed = () => {
        this.off("event", onEvent);
        resolve(null);
      };
      if (this.control.destroyed) return onClosed();
      this.on("event", onEvent);
      this.once("closed", onClosed);
    });
    return options.keepAlive === false ? found : this.keepAlive(found);
  }

  /**
   * Keeps Node alive until `pending` settles. A running container alone must not keep the
   * process alive (the exit hooks stop it), but someone awaiting it must.
   */
  async keepAlive<T>(pending: Promise<T>): Promise<T> {
    if (this.waiters++ === 0) this.control.ref();
    try {
      return await pending;
    } finally {
      if (--this.waiters === 0) this.control.unref();
    }
  }

  /** Closes Node's end of the control socket; the helper then kills its child. */
  close(): void {
    loadAddon().releaseHelper(this.pid);
    this.control.destroy();
    for (const s of this.stdio) s?.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line) this.emit("event", JSON.parse(line) as HelperEvent);
    }
  }
}
