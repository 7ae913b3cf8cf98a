/**
 * `bento volume create|inspect|ls|rm|prune`: the volumes in the store.
 */
import { BentoError } from "../errors.js";
import { Volume } from "../volume/volume.js";
import { labelPairs } from "./labels.js";
import { inspectRefs } from "./inspect.js";
import { checkVolumeName, containersUsing, listVolumeRecords, readVolumeRecord, type VolumeRecord } from "../volume/volume-store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, reportError, writeJson, type Command } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { formatAgo, formatTable } from "./table.js";

const usage = `Usage: bento volume COMMAND

Manage volumes (BENTO_HOME/volumes).

Commands:
  create [--label K=V] [NAME]
                     create a volume (a random name without NAME); an existing one is kept
  inspect [-f FORMAT] NAME...
                     show volumes as docker's JSON, or through a Go template
  ls [-q] [--json]   list volumes, and the containers that use each
  rm NAME...         remove volumes (refused while a container uses one)
  prune [-a]         remove anonymous volumes no container uses (-a: named ones too)

Options:
  -h, --help   print this help
`;

const lsOptions = { ...helpOption, quiet: { type: "boolean", short: "q" }, json: { type: "boolean" } } as const;
const createOptions = { ...helpOption, label: { type: "string", short: "l", multiple: true }, driver: { type: "string", short: "d" } } as const;
const inspectOptions = { ...helpOption, format: { type: "string", short: "f" } } as const;
const plainOptions = { ...helpOption } as const;
const pruneOptions = { ...helpOption, all: { type: "boolean", short: "a" } } as const;

/** The table `bento volume ls` prints. */
export function volumesTable(volumes: readonly (VolumeRecord & { usedBy: string[] })[], now = new Date()): string {
  return formatTable(
    ["NAME", "CREATED", "ANONYMOUS", "USED BY"],
    volumes.map((v) => [v.name, formatAgo(new Date(v.createdAt), now), v.anonymous ? "yes" : "no", v.usedBy.join(", ") || "-"]),
  );
}

export const volumeCommand: Command = dockerCommand({
  name: "volume",
  summary: "Create, inspect, list, remove and prune volumes",
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined) throw new UsageError("volume needs a command: create, inspect, ls, rm or prune", usage);
    if (sub === "-h" || sub === "--help") return printHelp(io, usage);
    if (sub === "create") {
      const { values, positionals } = parseCommandArgs(rest, createOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length > 1) throw new UsageError(`volume create takes at most one name (got ${positionals.length})`, usage);
      if (values.driver !== undefined && values.driver !== "local") throw new UsageError(`--driver "${values.driver}": bento has the local driver only`, usage);
      const name = positionals[0];
      if (name !== undefined) checkVolumeName(name);
      const volume = await new Volume(name, { labels: labelPairs(values.label, usage) }).create();
      io.stdout.write(`${volume.name}\n`);
      return 0;
    }
    if (sub === "inspect") {
      const { values, positionals } = parseCommandArgs(rest, inspectOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length === 0) throw new UsageError("volume inspect needs at least one volume name", usage);
      return inspectRefs(positionals, "volume", values.format, io, usage);
    }
    if (sub === "ls" || sub === "list") {
      const { values, positionals } = parseCommandArgs(rest, lsOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length > 0) throw new UsageError(`volume ls takes no arguments (got "${positionals[0]}")`, usage);
      const volumes = listVolumeRecords()
        .map((v) => ({ ...v, usedBy: containersUsing(v.name) }))
        .sort((a, b) => a.name.localeCompare(b.name));
      if (values.json) writeJson(io, volumes);
      else if (values.quiet) io.stdout.write(volumes.map((v) => `${v.name}\n`).join(""));
      else io.stdout.write(volumesTable(volumes));
      return 0;
    }
    if (sub === "rm" || sub === "remove") {
      const { values, positionals } = parseCommandArgs(rest, plainOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length === 0) throw new UsageError("volume rm needs at least one volume name", usage);
      let failed = false;
      for (const name of positionals) {
        try {
          checkVolumeName(name);
          if (!readVolumeRecord(name)) throw new BentoError("ERR_NOT_FOUND", `no volume named ${name}; "bento volume ls" lists them`);
          await new Volume(name).remove();
          io.stdout.write(`${name}\n`);
        } catch (error) {
          failed = true;
          reportError(io, error);
        }
      }
      return failed ? 1 : 0;
    }
    if (sub === "prune") {
      const { values, positionals } = parseCommandArgs(rest, pruneOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length > 0) throw new UsageError(`volume prune takes no arguments (got "${positionals[0]}")`, usage);
      const removed = await Volume.prune({ all: values.all === true });
      if (removed.length > 0) io.stdout.write(`Deleted volumes:\n${removed.map((n) => `${n}\n`).join("")}`);
      else io.stdout.write("No unused volumes\n");
      return 0;
    }
    throw new UsageError(`unknown volume command "${sub}"; use create, inspect, ls, rm or prune`, usage);
  },
});
