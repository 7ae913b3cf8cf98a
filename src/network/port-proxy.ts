/**
 * Publishes a container's TCP ports on the host with a user-space proxy (DESIGN section 7): Node
 * listens on 127.0.0.1 and ::1 with the same port number, and for each connection asks the
 * container's shim for a socket connected inside the container's network namespace, then hands
 * both sockets to the addon's relay thread, which splices both ways with half-close and
 * backpressure. Nothing is added to the host's network.
 */
import { closeSync } from "node:fs";
import type { AddressInfo, Server, Socket } from "node:net";
import { netModule } from "../deps.js";
import { BentoError } from "../errors.js";
import { loadAddon } from "../native/load.js";
import type { PublishedPort } from "./port-spec.js";

/** A published port with the host port chosen. */
export interface BoundPort extends PublishedPort {
  hostPort: number;
}

/** Where to get a connection into the container; null while it is not running. */
export type ChannelSource = () => number | null;

/** Publishes a port through the container's shim (on `hostIp`, else both loopbacks); resolves with 0 or an errno. */
export type UdpPublisher = (hostPort: number, containerPort: number, hostIp?: string) => Promise<number>;

async function listen(server: Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    // An IPv6 address means that address alone ("::" would otherwise take the IPv4 ones too).
    server.listen({ host, port, exclusive: true, ipv6Only: host.includes(":") }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function publishThroughShim(port: PublishedPort, udp: UdpPublisher): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = port.host || (await freePort());
    const errno = await udp(candidate, port.container, port.hostIp);
    if (errno === 0) return candidate;
    if (port.host || errno !== 98 /* EADDRINUSE */) {
      const where = port.hostIp === undefined ? "" : ` of ${port.hostIp}`;
      const fix = errno === 99 /* EADDRNOTAVAIL */ ? `${port.hostIp} is not an address of this machine; publish on one of its addresses, or leave the address out` : "choose another host port or let bento pick one";
      throw new BentoError("ERR_PORT_IN_USE", `ports: cannot publish ${port.container}/${port.protocol} on host port ${candidate}${where} (errno ${errno}); ${fix}`);
    }
  }
  throw new BentoError("ERR_PORT_IN_USE", `ports: found no free host port for ${port.container}/${port.protocol}`);
}

export class PortProxy {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  readonly bound: BoundPort[] = [];

  private constructor(
    private readonly channel: ChannelSource,
    private readonly tcpThroughShim: UdpPublisher | undefined,
  ) {}

  /**
   * Listens for every TCP port in `ports`; UDP ports are bound by the container's shim (a UDP
   * socket cannot be handed to Node's dgram), which relays datagrams per client flow. With
   * `tcpThroughShim` (a detached container, which outlives this process) the shim listens for
   * the TCP ports too.
   */
  static async open(ports: readonly PublishedPort[], channel: ChannelSource, udp: UdpPublisher, tcpThroughShim?: UdpPublisher): Promise<PortProxy> {
    const proxy = new PortProxy(channel, tcpThroughShim);
    try {
      for (const port of ports) {
        const hostPort =
          port.protocol === "udp"
            ? await publishThroughShim(port, udp)
            : tcpThroughShim !== undefined
              ? await publishThroughShim(port, tcpThroughShim)
              : port.hostIp !== undefined
                ? await proxy.listenOn(port, port.hostIp)
                : await proxy.listenBoth(port);
        proxy.bound.push({ ...port, hostPort });
      }
    } catch (error) {
      await proxy.close();
      throw error;
    }
    return proxy;
  }

  /**
   * Publishes every port again (after a restart) on the same host ports and addresses: the TCP
   * listeners closed when the container exited, and the ports the shim held (UDP, and TCP of a
   * detached container) went with the old shim.
   */
  async reopen(udp: UdpPublisher, tcp: UdpPublisher | undefined): Promise<void> {
    try {
      for (const b of this.bound) {
        const same = { ...b, host: b.hostPort };
        if (b.protocol === "udp") await publishThroughShim(same, udp);
        else if (this.tcpThroughShim !== undefined && tcp !== undefined) await publishThroughShim(same, tcp);
        else if (b.hostIp !== undefined) await this.listenOn(same, b.hostIp);
        else await this.listenBoth(same);
      }
    } catch (error) {
      this.closeListeners();
      throw error;
    }
  }

  /**
   * Stops listening at once, as the container exited: a client connecting now is refused
   * (ECONNREFUSED, as with Docker) instead of being accepted by a port nothing serves.
   */
  closeListeners(): void {
    for (const s of this.sockets) s.destroy();
    for (const server of this.servers.splice(0)) server.close();
  }

  /** The host port a container port is published on. */
  hostPort(container: number, protocol: "tcp" | "udp" = "tcp"): number | undefined {
    return this.bound.find((b) => b.container === container && b.protocol === protocol)?.hostPort;
  }

  /** Stops listening and closes every proxied connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.splice(0).map(close));
  }

  // The same port number on 127.0.0.1 and ::1, so clients that resolve "localhost" either way
  // reach the container (testcontainers users meet different ports, their #750).
  private async listenBoth(port: PublishedPort): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const v4 = this.server(port.container);
      try {
        // Port 0: the kernel picks a free one as it binds, so no other process can take it between a check and the bind.
        await listen(v4, "127.0.0.1", port.host ?? 0);
      } catch (error) {
        if (port.host) throw new BentoError("ERR_PORT_IN_USE", `ports: host port ${port.host} is not free (${(error as Error).message}); choose another or let bento pick one`, { cause: error });
        continue;
      }
      const candidate = boundPort(v4);
      const v6 = this.server(port.container);
      try {
        await listen(v6, "::1", candidate);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT") return this.keep(v4, candidate); // no IPv6 here
        await close(v4);
        if (port.host) throw new BentoError("ERR_PORT_IN_USE", `ports: host port ${port.host} is taken on ::1; choose another or let bento pick one`, { cause: error });
        continue;
      }
      this.servers.push(v6);
      return this.keep(v4, candidate);
    }
    throw new BentoError("ERR_PORT_IN_USE", `ports: found no free host port for ${port.container} on both 127.0.0.1 and ::1`);
  }

  // One address the user chose, such as 0.0.0.0 (`docker run -p 0.0.0.0:8080:80`).
  private async listenOn(port: PublishedPort, address: string): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const server = this.server(port.container);
      try {
        await listen(server, address, port.host ?? 0);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EADDRNOTAVAIL")
          throw new BentoError("ERR_PORT_IN_USE", `ports: ${address} is not an address of this machine; publish on one of its addresses (such as 0.0.0.0 or 127.0.0.1), or leave the address out`, { cause: error });
        if (port.host) throw new BentoError("ERR_PORT_IN_USE", `ports: host port ${port.host} is not free on ${address} (${(error as Error).message}); choose another or let bento pick one`, { cause: error });
        continue;
      }
      return this.keep(server, boundPort(server));
    }
    throw new BentoError("ERR_PORT_IN_USE", `ports: found no free host port for ${port.container} on ${address}`);
  }

  private keep(server: Server, port: number): number {
    this.servers.push(server);
    return port;
  }

  private server(containerPort: number): Server {
    const server = netModule().createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => void this.accept(client, containerPort));
    server.unref();
    return server;
  }

  private async accept(client: Socket, containerPort: number): Promise<void> {
    this.sockets.add(client);
    client.on("close", () => this.sockets.delete(client));
    const channel = this.channel();
    if (channel === null) {
      client.destroy();
      return;
    }
    let fd: number;
    try {
      fd = await loadAddon().connectInContainer(channel, containerPort);
    } catch {
      // Refused (or the container stopped) inside: the client sees its connection closed.
      client.destroy();
      return;
    }
    // The bytes never enter JavaScript: the addon's relay thread splices between both sockets
    // (Node's own piping reached only about a third of loopback's throughput).
    const clientFd = (client as unknown as { _handle?: { fd?: number } })._handle?.fd;
    try {
      if (!client.destroyed && clientFd !== undefined && clientFd >= 0) loadAddon().relay(clientFd, fd);
    } catch {
      // No relay: both sockets close below, and the client sees its connection end.
    } finally {
      closeSync(fd);
      client.destroy();
    }
  }
}

/** The port a listening server is bound to. */
function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

let getPort: typeof import("get-port").default | undefined;

/**
 * A free TCP port on 127.0.0.1 for the shim to bind (UDP, a detached container's TCP), from
 * get-port, loaded when such a port is first published and kept: a dynamic import per call costs
 * a round trip through the module loader.
 */
async function freePort(): Promise<number> {
  getPort ??= (await import("get-port")).default;
  return getPort({ host: "127.0.0.1" });
}
