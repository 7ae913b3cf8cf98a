/**
 * `bento port CONTAINER [PRIVATE_PORT[/PROTO]]`: a container's published ports, as docker port.
 */
import { readContainerRecord } from "../container/container-record.js";
import { BentoError } from "../errors.js";
import type { BoundPort } from "../network/port-proxy.js";
import { findMachineContainer } from "../runtime/machine-containers.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";

const usage = `Usage: bento port CONTAINER [PRIVATE_PORT[/PROTO]]

List a container's published ports (by name, id or id prefix): "80/tcp -> 127.0.0.1:32768",
one line for each host address; with PRIVATE_PORT, only that port's host addresses. A port
published without a host address is on 127.0.0.1 and ::1, so it has a line for each.

Options:
  -h, --help   print this help
`;

/** Where a bound port listens: its host address, or both loopbacks. */
function addresses(p: BoundPort): string[] {
  if (p.hostIp === undefined) return [`127.0.0.1:${p.hostPort}`, `[::1]:${p.hostPort}`];
  return [p.hostIp.includes(":") ? `[${p.hostIp}]:${p.hostPort}` : `${p.hostIp}:${p.hostPort}`];
}

export const portCommand = dockerCommand({
  name: "port",
  summary: "List a container's published ports",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, usage);
    if (values.help) return printHelp(io, usage);
    const [ref, wanted, extra] = positionals;
    if (ref === undefined || extra !== undefined) throw new UsageError("port takes a container and, optionally, one port (e.g. 80 or 53/udp)", usage);
    const match = wanted === undefined ? undefined : /^(\d+)(?:\/(tcp|udp))?$/.exec(wanted);
    if (wanted !== undefined && !match) throw new UsageError(`"${wanted}" is not a port; give a number, optionally with /tcp or /udp (e.g. 53/udp)`, usage);
    const c = findMachineContainer(ref);
    const ports = (readContainerRecord(c.containerDir).ports ?? []).filter((p) => match == null || (p.container === Number(match[1]) && p.protocol === (match[2] ?? "tcp")));
    if (wanted !== undefined && ports.length === 0) throw new BentoError("ERR_NOT_FOUND", `no public port ${wanted} published for ${c.name}; "bento port ${c.name}" lists its ports`);
    for (const p of ports) {
      for (const a of addresses(p)) io.stdout.write(wanted === undefined ? `${p.container}/${p.protocol} -> ${a}\n` : `${a}\n`);
    }
    return 0;
  },
});
