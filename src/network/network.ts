/**
 * Networks between containers (DESIGN section 7): a bridge inside a private network namespace
 * held by a bento-shim in its "network" role. Each member gets a veth pair from that namespace
 * into its own, and an address from the network's subnet; members' names and aliases resolve
 * through /etc/hosts in every member, rewritten in place as members join and leave. Nothing is
 * created in the host's network namespace, so nothing can be left there.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { cryptoModule } from "../deps.js";
import { BentoError, InvalidOptionError } from "../errors.js";
import { isRootless, userNamespace } from "../runtime/user-namespace.js";
import { HelperProcess, type HelperEvent } from "../native/helper-process.js";
import { systemCallErrorOf } from "../runtime/wait-status.js";

/** Every network's bridge and subnet: each lives in its own namespace, so they cannot clash. */
const subnetPrefix = "10.89.0.";
const prefixLength = 24;
/** Every network's gateway (the bridge's address). */
export const gateway = `${subnetPrefix}1`;
/** Every network's subnet. */
export const subnet = `${subnetPrefix}0/${prefixLength}`;

/** What a container joining a network tells it. */
export interface JoiningMember {
  id: string;
  initPid: number;
  names: string[];
  hostsFile: string;
  extraHosts?: string;
}

/** A container on a network, as the network sees it. */
interface Member {
  id: string;
  address: string;
  names: string[];
  hostsFile: string;
  /** The member's own /etc/hosts lines (extra hosts), kept after the network's. */
  extraHosts: string;
}

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * A network containers join with `network: net`: they reach each other by name and alias.
 *
 * @example
 * ```ts
 * const net = await new Network().create();
 * const db = await new Container(pg, { network: net, aliases: ["db"] }).start();
 * const app = await new Container(web, { network: net }).start(); // connects to db:5432
 * await net.remove();
 * ```
 */
export class Network implements AsyncDisposable {
  /** The network's name; a random one for `new Network()`. */
  readonly name: string;
  private helper: HelperProcess | undefined;
  private readonly members = new Map<string, Member>();
  private nextHost = 2;
  private queue: Promise<unknown> = Promise.resolve();
  private detachedMembersKept = false;
  /** Set for a network another process holds: how a member joins it there. */
  private joinElsewhere: ((member: JoiningMember) => Promise<string>) | undefined;

  constructor(name?: string) {
    if (name !== undefined && !namePattern.test(name)) {
      throw new InvalidOptionError("network", `"${name}" is not a network name: use letters, digits, "_", "." and "-"`);
    }
    this.name = name ?? `bento-net-${cryptoModule().randomBytes(6).toString("hex")}`;
  }

  /**
   * Creates the network's namespace and bridge.
   *
   * @example
   * ```ts
   * const net = await new Network("backend").create();
   * ```
   */
  async create(): Promise<Network> {
    if (this.helper) return this;
    // Rootless, the network's namespace must have the containers' owner: their user namespace.
    const userns = isRootless() ? await userNamespace() : undefined;
    const helper = HelperProcess.start({
      role: "network",
      plan: [["section", "settings"], ...(userns ? [["userns", String(userns.holderPid)]] : []), ["bridge", "br0", gateway, String(prefixLength)]],
      stdio: ["null", "null", "null"],
    });
    const first = await helper.waitFor((e) => e.event !== "attached");
    if (first?.event !== "ready") {
      helper.close();
      await helper.exited();
      throw this.failure(`create network ${this.name}`, first);
    }
    this.helper = helper;
    return this;
  }

  /**
   * @internal A network another process holds (a `bento network create` keeper): `join` asks
   * that process to connect a member and resolves to its address. Its members may be detached.
   */
  static heldElsewhere(name: string, join: (member: JoiningMember) => Promise<string>): Network {
    const network = new Network(name);
    network.joinElsewhere = join;
    network.detachedMembersKept = true;
    return network;
  }

  /** True while the network exists. */
  get created(): boolean {
    return this.helper !== undefined || this.joinElsewhere !== undefined;
  }

  /** The address a member container has on this network. */
  addressOf(containerId: string): string | undefined {
    return this.members.get(containerId)?.address;
  }

  /**
   * Removes the network: its namespace, bridge and every member's link to it.
   *
   * @example
   * ```ts
   * await net.remove();
   * ```
   */
  async remove(): Promise<void> {
    const helper = this.helper;
    if (!helper) return;
    this.helper = undefined;
    helper.close();
    await helper.exited();
  }

  /** Removes the network (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }

  /**
   * @internal Connects a container (by the host pid of its init) under `names`; rewrites every
   * member's hosts file. Called by the runtime before the container's command runs.
   */
  attach(member: JoiningMember): Promise<string> {
    if (this.joinElsewhere) return this.joinElsewhere(member);
    return this.serialized(async () => {
      const helper = this.helper;
      if (!helper) throw new BentoError("ERR_NETWORK_REMOVED", `network ${this.name} does not exist (was it removed?); create it before starting containers on it`);
      const address = `${subnetPrefix}${this.allocate()}`;
      const hostIf = `veth${member.id.slice(0, 8)}`;
      const reply = helper.waitFor((e) => e.event === "attached" || e.event === "error" || e.event === "fatal");
      helper.send(`attach ${member.initPid} ${hostIf} eth0 ${address} ${prefixLength}\n`);
      const result = await reply;
      if (result?.event !== "attached") throw this.failure(`attach ${member.names[0]} to network ${this.name}`, result);
      this.members.set(member.id, { id: member.id, address, names: member.names, hostsFile: member.hostsFile, extraHosts: member.extraHosts ?? "" });
      this.writeHosts();
      return address;
    });
  }

  /**
   * @internal Lets detached containers join: the caller keeps this process (which holds the
   * network) alive for as long as they run, and removes them before the network, as the
   * background process of `bento compose up -d` does.
   */
  keepForDetachedMembers(): void {
    this.detachedMembersKept = true;
  }

  /** @internal True once {@link keepForDetachedMembers} was called. */
  get keepsDetachedMembers(): boolean {
    return this.detachedMembersKept;
  }

  /** @internal Forgets a member whose container stopped; its link died with its namespace. */
  detach(id: string): void {
    if (!this.members.delete(id)) return;
    this.writeHosts();
  }

  private allocate(): number {
    const used = new Set([...this.members.values()].map((m) => Number(m.address.split(".")[3])));
    for (let i = 0; i < 253; i++) {
      const candidate = ((this.nextHost - 2 + i) % 253) + 2;
      if (!used.has(candidate)) {
        this.nextHost = candidate + 1;
        return candidate;
      }
    }
    throw new BentoError("ERR_NETWORK_FULL", `network ${this.name} has no free address left (${prefixLength}-bit prefix, 253 members)`);
  }

  // The hosts files are bind-mounted into the members: rewrite them in place (truncate the same
  // inode), never by rename, which would leave the mounts on the old file. Never create one: a
  // member removed from another process (bento rm) before this one saw it end has its directory
  // being deleted, and a new file there would fail that removal (ENOTEMPTY).
  private writeHosts(): void {
    const lines = [...this.members.values()].map((m) => `${m.address}\t${m.names.join(" ")}`);
    for (const m of this.members.values()) {
      let fd: number;
      try {
        fd = openSync(m.hostsFile, "r+");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      try {
        ftruncateSync(fd, 0);
        writeSync(fd, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${lines.join("\n")}\n${m.extraHosts}`, 0);
      } finally {
        closeSync(fd);
      }
    }
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private failure(context: string, event: HelperEvent | null): Error {
    if (event?.event === "error") return systemCallErrorOf(context, event, () => "network setup");
    return new BentoError("ERR_NETWORK", `${context}: ${event?.message ?? "the network helper ended"}`);
  }
}
