/**
 * Outbound network access for a container in its own network namespace, without the host's
 * network, through a user-mode helper on the host side and a tap device inside the namespace, as
 * BuildKit gives RUN steps a sandbox network and podman gives rootless containers egress
 * (`--network=slirp4netns|pasta`). Both helpers give the namespace the same layout: tap0 with
 * 10.0.2.100/24, a default route through 10.0.2.2 and a DNS forwarder at 10.0.2.3 (which asks the
 * host's first resolver). Neither maps the gateway (or anything else) to the host's loopback, so
 * services bound to the host's 127.0.0.1 stay out of reach; the host's other addresses are
 * reached as any other destination is.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, constants, openSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { childProcessModule, netModule } from "../deps.js";
import { BentoError } from "../errors.js";
import { egressHelperPath, egressUnavailable, type EgressHelper } from "../runtime/egress-helpers.js";
import { isRootless } from "../runtime/user-namespace.js";

/** The DNS forwarder both helpers offer inside the namespace (it asks the host's resolvers). */
export const egressNameserver = "10.0.2.3";

/** A running helper for one container. */
export interface Egress {
  /** Ends it (the namespace's tap device goes with it); resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Gives the network namespace of `initPid` a tap0 with a default route out through `helper`;
 * resolves once it is up. `workDir` (the container's own directory) holds pasta's readiness FIFO
 * for the moment it starts. `what` names the container in errors.
 */
export function startEgress(helper: EgressHelper, initPid: number, workDir: string, what: string): Promise<Egress> {
  const unavailable = egressUnavailable(helper, what);
  if (unavailable) return Promise.reject(unavailable);
  return helper === "pasta" ? startPasta(initPid, workDir) : startSlirp(initPid);
}

function startSlirp(initPid: number): Promise<Egress> {
  // fd 3: ready (a byte once configured); fd 4: exit (closing it, or Node dying, ends it).
  const child = childProcessModule().spawn(egressHelperPath("slirp4netns")!, ["--configure", "--mtu=65520", "--disable-host-loopback", "--ready-fd=3", "--exit-fd=4", String(initPid), "tap0"], {
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
  });
  const exitPipe = child.stdio[4]!;
  return whenReady("slirp4netns", initPid, child, child.stdio[3] as NodeJS.ReadableStream, [exitPipe], () => exitPipe.destroy());
}

/**
 * pasta (passt's namespace mode) has no exit descriptor: it runs in the foreground as this
 * process's child with a parent-death signal (setpriv(1)), so a Node process killed outright
 * takes it along. It writes its pid file once the namespace is configured; a FIFO turns that into
 * the ready signal.
 */
function startPasta(initPid: number, workDir: string): Promise<Egress> {
  const fifo = join(workDir, "egress-ready");
  rmSync(fifo, { force: true });
  childProcessModule().execFileSync("mkfifo", ["-m", "600", fifo]);
  let ready: Socket | undefined;
  let netns: number | undefined;
  try {
    ready = new (netModule().Socket)({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
    // Root: pasta keeps only some capabilities, too few to open another root process's
    // /proc/PID/ns/net (ptrace rules), so it gets the namespace as an open descriptor and stays
    // uid 0 (it would turn into nobody, who may not enter it). Rootless, it enters the
    // container's user namespace, then its network namespace, from the pid, as slirp4netns does.
    netns = isRootless() ? undefined : openSync(`/proc/${initPid}/ns/net`, "r");
    const target = netns === undefined ? [String(initPid)] : ["--runas", "0", "--netns", "/proc/self/fd/3"];
    const args = [
      ...["--pdeathsig", "KILL", egressHelperPath("pasta")!, "--foreground", "--quiet", "--ipv4-only", "--config-net", "--ns-ifname", "tap0"],
      ...["--address", "10.0.2.100", "--netmask", "24", "--gateway", "10.0.2.2", "--dns-forward", egressNameserver, "--no-map-gw"],
      // No port forwarding either way: published ports go through bento's proxy, and forwarding
      // from the namespace to the host ("-T auto", pasta's default) would open the host's loopback.
      ...["--tcp-ports", "none", "--udp-ports", "none", "--tcp-ns", "none", "--udp-ns", "none", "--pid", fifo, ...target],
    ];
    const child = childProcessModule().spawn("setpriv", args, { stdio: ["ignore", "ignore", "pipe", netns ?? "ignore"] });
    const readyFifo = ready;
    return whenReady("pasta", initPid, child, readyFifo, [], () => undefined).finally(() => {
      readyFifo.destroy();
      rmSync(fifo, { force: true });
    });
  } catch (error) {
    ready?.destroy();
    rmSync(fifo, { force: true });
    return Promise.reject(error);
  } finally {
    if (netns !== undefined) closeSync(netns);
  }
}

/** Resolves once `readyStream` says the helper configured the namespace; rejects if it ends first. */
function whenReady(name: string, initPid: number, child: ChildProcess, readyStream: NodeJS.ReadableStream, held: { destroy(): void }[], release: () => void): Promise<Egress> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    let settled = false;
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    const stop = () => {
      release();
      // Referenced again: whoever awaits the stop keeps the event loop alive until the exit.
      child.ref();
      child.kill("SIGKILL");
      return exited;
    };
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    child.on("exit", (code, signal) => {
      if (settled) return;
      settled = true;
      reject(new BentoError("ERR_RUNTIME", `${name} for pid ${initPid} ended (${signal ?? `exit code ${code}`}) before the network was up: ${stderr.trim() || "no message"}`));
    });
    readyStream.once("data", () => {
      if (settled) return;
      settled = true;
      child.unref();
      for (const s of [child.stderr, readyStream, ...held]) (s as { unref?: () => void }).unref?.();
      resolve({ stop });
    });
  });
}
