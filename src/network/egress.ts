/**
 * Outbound network access for a container in its own network namespace, without the host's
 * network: slirp4netns (Debian package `slirp4netns`) runs a user-mode TCP/IP stack on the host
 * side and a tap device inside the namespace, as BuildKit gives RUN steps a sandbox network and
 * podman gives rootless containers egress. `--disable-host-loopback` keeps services bound to the
 * host's 127.0.0.1 out of reach; the container's own loopback is its own.
 */
import type { ChildProcess } from "node:child_process";
import { childProcessModule } from "../deps.js";
import { BentoError, HostUnsupportedError } from "../errors.js";

/** The DNS forwarder slirp4netns offers inside the namespace (it asks the host's resolvers). */
export const egressNameserver = "10.0.2.3";

/** A running slirp4netns for one container. */
export interface Egress {
  /** Ends it (the namespace's tap device goes with it). */
  stop(): void;
}

/** Gives the network namespace of `initPid` a tap0 with a default route out; resolves once it is up. */
export function startEgress(initPid: number): Promise<Egress> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // fd 3: ready (a byte once configured); fd 4: exit (closing it, or Node dying, ends it).
      child = childProcessModule().spawn("slirp4netns", ["--configure", "--mtu=65520", "--disable-host-loopback", "--ready-fd=3", "--exit-fd=4", String(initPid), "tap0"], {
        stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
      });
    } catch (error) {
      reject(error);
      return;
    }
    let stderr = "";
    let settled = false;
    const exitPipe = child.stdio[4]!;
    const stop = () => {
      exitPipe.destroy();
      child.kill("SIGKILL");
    };
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      reject(error.code === "ENOENT" ? new HostUnsupportedError("build RUN steps get outbound network access through slirp4netns, which is not installed; run: apt-get install slirp4netns (or use RUN --network=host)") : error);
    });
    child.on("exit", (code, signal) => {
      if (settled) return;
      settled = true;
      reject(new BentoError("ERR_RUNTIME", `slirp4netns for pid ${initPid} ended (${signal ?? `exit code ${code}`}) before the network was up: ${stderr.trim() || "no message"}`));
    });
    child.stdio[3]!.once("data", () => {
      if (settled) return;
      settled = true;
      child.unref();
      for (const s of [child.stderr, child.stdio[3], exitPipe]) (s as { unref?: () => void }).unref?.();
      resolve({ stop });
    });
  });
}
