/**
 * Named networks shared between processes (`bento network create`, `bento run --network NAME`).
 * A keeper process holds the {@link Network} and serves a control socket in the network's
 * record dir (network-records.ts): a process starting a container on it sends the container's
 * init pid, names and hosts file (one JSON line per connection), and the keeper links it and
 * answers its address. The keeper forgets members whose init ended (checked twice a second:
 * they may be removed from any process, and nothing tells it), so their names stop resolving.
 */
import type { Server, Socket } from "node:net";
import { cryptoModule, netModule } from "../deps.js";
import { BentoError } from "../errors.js";
import { isRootless, joinUserNamespaceOf, userNamespace } from "../runtime/user-namespace.js";
import { gateway, Network, subnet, type JoiningMember } from "./network.js";
import { claimNetworkDir, controlSocket, dropNetworkDir, findNetwork, memberRuns, type NetworkMember, processStartTime, writeNetworkMembers, writeNetworkRecord } from "./network-records.js";

/** How often the keeper looks for members that ended. */
const memberCheckMs = 500;

/** Reads one line from `socket`, then ends it. */
function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      const end = text.indexOf("\n");
      if (end >= 0) resolve(text.slice(0, end));
    });
    socket.once("error", reject);
    socket.once("end", () => reject(new Error("the connection ended before a reply")));
  });
}

/** A network held for other processes until {@link HeldNetwork.remove}. */
export interface HeldNetwork {
  readonly name: string;
  /** Unlinks nothing (members must be gone), removes the network and its record. */
  remove(): Promise<void>;
}

/**
 * Creates network `name`, records it and serves joins to it; resolves once other processes can
 * find and join it.
 *
 * @example
 * ```ts
 * const held = await holdNamedNetwork("backend", {});
 * ```
 */
export async function holdNamedNetwork(name: string, labels: Record<string, string>): Promise<HeldNetwork> {
  const lockFd = claimNetworkDir(name);
  const network = new Network(name);
  let server: Server | undefined;
  try {
    await network.create();
    network.keepForDetachedMembers();
    const members = new Map<string, NetworkMember>();
    const join = async (member: JoiningMember & { name: string }): Promise<string> => {
      const address = await network.attach(member);
      const initStartTime = processStartTime(member.initPid);
      if (initStartTime === undefined) {
        network.detach(member.id);
        throw new Error(`container ${member.name} ended while it joined`);
      }
      members.set(member.id, { id: member.id, name: member.name, address: `${address}/${subnet.split("/")[1]}`, initPid: member.initPid, initStartTime });
      writeNetworkMembers(name, [...members.values()]);
      return address;
    };
    const listening = netModule().createServer((socket) => {
      readLine(socket)
        .then((line) => join(JSON.parse(line) as JoiningMember & { name: string }))
        .then(
          (address) => socket.end(`${JSON.stringify({ address })}\n`),
          (error: unknown) => socket.end(`${JSON.stringify({ error: (error as Error).message })}\n`),
        );
    });
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(controlSocket(name), resolve);
    });
    const sweep = setInterval(() => {
      const ended = [...members.values()].filter((m) => !memberRuns(m));
      for (const m of ended) {
        members.delete(m.id);
        network.detach(m.id);
      }
      if (ended.length > 0) writeNetworkMembers(name, [...members.values()]);
    }, memberCheckMs);
    writeNetworkMembers(name, []);
    const userns = isRootless() ? await userNamespace() : undefined;
    writeNetworkRecord({
      name,
      id: cryptoModule().randomBytes(32).toString("hex"),
      created: new Date().toISOString(),
      subnet,
      gateway,
      labels,
      keeperPid: process.pid,
      ...(userns ? { userNamespaceHolderPid: userns.holderPid } : {}),
    });
    return {
      name,
      async remove() {
        clearInterval(sweep);
        listening.close();
        await network.remove();
        dropNetworkDir(name, lockFd);
      },
    };
  } catch (error) {
    server?.close();
    await network.remove();
    dropNetworkDir(name, lockFd);
    throw error;
  }
}

/** Asks the keeper of network `name` to link a member; resolves to its address. */
async function askKeeper(name: string, member: JoiningMember & { name: string }): Promise<string> {
  const socket = netModule().createConnection(controlSocket(name));
  socket.write(`${JSON.stringify(member)}\n`);
  let reply: { address?: string; error?: string };
  try {
    reply = JSON.parse(await readLine(socket)) as typeof reply;
  } catch (error) {
    throw new BentoError("ERR_NETWORK_REMOVED", `attach ${member.name} to network ${name}: its keeper does not answer (was the network removed?); "bento network ls" lists the networks`, { cause: error });
  } finally {
    socket.destroy();
  }
  if (reply.address === undefined) throw new BentoError("ERR_NETWORK", `attach ${member.name} to network ${name}: ${reply.error ?? "no address"}`);
  return reply.address;
}

/**
 * The named network `name` as a {@link Network} containers of this process join (detached ones
 * too); throws naming it when it does not exist. Rootless, this process's containers then live
 * in the network keeper's user namespace, so that the keeper may link them.
 *
 * @example
 * ```ts
 * await new Container(image, { network: joinNamedNetwork("backend"), detach: true }).start();
 * ```
 */
export function joinNamedNetwork(name: string): Network {
  const record = findNetwork(name);
  if (record.userNamespaceHolderPid !== undefined) joinUserNamespaceOf(record.userNamespaceHolderPid, `network ${name}`);
  return Network.heldElsewhere(name, (member) => askKeeper(name, { ...member, name: member.names[0] ?? member.id }));
}
