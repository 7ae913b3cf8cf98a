/**
 * `bento network create|ls|inspect|rm`: named networks that outlive the command that made them.
 * `create` starts a keeper (keeper.ts) that holds the network until `rm` asks it to stop;
 * containers of any process join it with `bento run --network NAME`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BentoError } from "../errors.js";
import { holdNamedNetwork } from "../network/named-network.js";
import { checkNetworkName, findNetwork, listNetworkRecords, networkMembers, processStartTime, readNetworkRecord, type NetworkRecord } from "../network/network-records.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, reportError, type CliIo } from "./command.js";
import { dockerCommand, formatter, writeFormatted } from "./docker-command.js";
import { isKeeper, keep, startKeeper } from "./keeper.js";
import { labelPairs } from "./labels.js";
import { formatTable, shortId } from "./table.js";

const usage = `Usage: bento network COMMAND

Manage networks. A network is a bridge in a network namespace of its own, held by a background
bento process from create to rm; containers on it (bento run --network NAME, from any process)
reach each other by name and --network-alias. It has no route out (docker's --internal).

Commands:
  create [-d bridge] [--label K=V] NAME
                     create a network and print its id
  ls [-q]            list networks (-q: only their ids)
  inspect [-f FORMAT] NAME...
                     show networks as docker's JSON, or through a Go template
  rm NAME...         remove networks (refused while a container on one runs)

Options:
  -h, --help   print this help
`;

const createOptions = { ...helpOption, label: { type: "string", multiple: true }, driver: { type: "string", short: "d" } } as const;
const lsOptions = { ...helpOption, quiet: { type: "boolean", short: "q" } } as const;
const inspectOptions = { ...helpOption, format: { type: "string", short: "f" } } as const;
const plainOptions = { ...helpOption } as const;

/** How long `rm` waits for a keeper to remove its network. */
const keeperStopMs = 15_000;

/** Network `record` as `docker network inspect` shows one. */
function dockerNetwork(record: NetworkRecord): unknown {
  const containers = Object.fromEntries(networkMembers(record.name).map((m) => [m.id, { Name: m.name, EndpointID: "", MacAddress: "", IPv4Address: m.address, IPv6Address: "" }]));
  return {
    Name: record.name,
    Id: record.id,
    Created: record.created,
    Scope: "local",
    Driver: "bridge",
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: {}, Config: [{ Subnet: record.subnet, Gateway: record.gateway }] },
    Internal: true,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: containers,
    Options: {},
    Labels: record.labels,
  };
}

async function create(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(rest, createOptions, usage);
  if (values.help) return printHelp(io, usage);
  if (positionals.length !== 1) throw new UsageError(`network create takes one network name (got ${positionals.length})`, usage);
  if (values.driver !== undefined && values.driver !== "bridge") throw new UsageError(`--driver "${values.driver}": bento has the bridge driver only`, usage);
  const name = positionals[0]!;
  if (name === "bridge" || name === "host" || name === "none") throw new UsageError(`network create ${name}: "${name}" is docker's predefined network name; choose another`, usage);
  const labels = labelPairs(values.label, usage);
  if (isKeeper()) {
    return keep(async () => {
      const held = await holdNamedNetwork(name, labels);
      return { release: () => held.remove() };
    });
  }
  // Bad input fails here, before anything starts in the background.
  checkNetworkName(name);
  if (readNetworkRecord(name) !== undefined) throw new BentoError("ERR_NETWORK_EXISTS", `network with name ${name} already exists; remove it first (bento network rm ${name}) or choose another name`);
  const code = await startKeeper(["network", "create", ...rest], `network ${name}`, io);
  if (code === 0) io.stdout.write(`${findNetwork(name).id}\n`);
  return code;
}

/** The pids (with start times) of `pid`'s children, whichever of its threads started them: a keeper's helpers, which die with it. */
function childrenOf(pid: number): { pid: number; start: string | undefined }[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) => {
    try {
      const pids = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      return pids === "" ? [] : pids.split(" ").map((p) => ({ pid: Number(p), start: processStartTime(Number(p)) }));
    } catch {
      return [];
    }
  });
}

async function remove(name: string): Promise<void> {
  const record = findNetwork(name);
  const active = networkMembers(name);
  if (active.length > 0) {
    throw new BentoError("ERR_NETWORK_IN_USE", `network ${name} has active endpoints (${active.map((m) => m.name).join(", ")}); stop or remove them first (bento rm -f ${active.map((m) => m.name).join(" ")})`);
  }
  const keeper = { pid: record.keeperPid, start: processStartTime(record.keeperPid) };
  const processes = [keeper, ...childrenOf(record.keeperPid)];
  process.kill(record.keeperPid, "SIGTERM");
  // Returns once the keeper and its helpers are gone, and the namespace with them.
  const end = Date.now() + keeperStopMs;
  while (processes.some((p) => p.start !== undefined && processStartTime(p.pid) === p.start)) {
    if (Date.now() >= end) throw new BentoError("ERR_NETWORK", `network ${name}: its background process ${record.keeperPid} did not end within ${keeperStopMs / 1000}s of SIGTERM`);
    await sleep(20);
  }
  // Removes the record too if the keeper died before it could.
  readNetworkRecord(name);
}

export const networkCommand = dockerCommand({
  name: "network",
  summary: "Create, list, inspect and remove networks",
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined) throw new UsageError("network needs a command: create, ls, inspect or rm", usage);
    if (sub === "-h" || sub === "--help") return printHelp(io, usage);
    if (sub === "create") return create(rest, io);
    if (sub === "ls" || sub === "list") {
      const { values, positionals } = parseCommandArgs(rest, lsOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length > 0) throw new UsageError(`network ls takes no arguments (got "${positionals[0]}")`, usage);
      const networks = listNetworkRecords();
      if (values.quiet) io.stdout.write(networks.map((n) => `${shortId(n.id)}\n`).join(""));
      else
        io.stdout.write(
          formatTable(
            ["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
            networks.map((n) => [shortId(n.id), n.name, "bridge", "local"]),
          ),
        );
      return 0;
    }
    if (sub === "inspect") {
      const { values, positionals } = parseCommandArgs(rest, inspectOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length === 0) throw new UsageError("network inspect needs at least one network name", usage);
      const render = formatter(values.format, usage);
      const found: unknown[] = [];
      let failed = false;
      for (const name of positionals) {
        const record = readNetworkRecord(name);
        if (record === undefined) {
          failed = true;
          io.stderr.write(`bento: network ${name} not found; "bento network ls" lists the networks\n`);
        } else {
          found.push(dockerNetwork(record));
        }
      }
      writeFormatted(io, found, render);
      return failed ? 1 : 0;
    }
    if (sub === "rm" || sub === "remove") {
      const { values, positionals } = parseCommandArgs(rest, plainOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length === 0) throw new UsageError("network rm needs at least one network name", usage);
      let failed = false;
      for (const name of positionals) {
        try {
          await remove(name);
          io.stdout.write(`${name}\n`);
        } catch (error) {
          failed = true;
          reportError(io, error);
        }
      }
      return failed ? 1 : 0;
    }
    throw new UsageError(`unknown network command "${sub}"; use create, ls, inspect or rm`, usage);
  },
});
