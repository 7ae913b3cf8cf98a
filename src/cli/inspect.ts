/**
 * `bento inspect [--type container|image|volume] [-f FORMAT] NAME|ID...`: containers, images and
 * volumes in the JSON shapes docker prints (see docker-shapes.ts), or through a Go template.
 */
import { readContainerRecord } from "../container/container-record.js";
import { findMachineContainer } from "../runtime/machine-containers.js";
import { Store } from "../registry/store.js";
import { readVolumeRecord, volumeDataDir } from "../volume/volume-store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, type CliIo } from "./command.js";
import { dockerCommand, formatter, writeFormatted } from "./docker-command.js";
import { dockerContainer, dockerImage, dockerVolume } from "./docker-shapes.js";

const usage = `Usage: bento inspect [OPTIONS] NAME|ID [NAME|ID...]

Return low-level information on bento objects: containers, images and volumes, as JSON shaped as
docker's (the fields bento has).

Options:
  -f, --format string   format the output using the given Go template, or "json"
      --type string     only look for this type: container, image or volume
  -h, --help            print this help
`;

const options = { ...helpOption, format: { type: "string", short: "f" }, type: { type: "string" } } as const;

type Kind = "container" | "image" | "volume";
const kinds: readonly Kind[] = ["container", "image", "volume"];

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "ERR_NOT_FOUND" || code === "ERR_IMAGE_NOT_FOUND" || code === "ERR_VOLUME_NOT_FOUND";
}

/** The object `ref` names, of the first kind (in docker's order) that has one; undefined if none does. */
export async function inspectObject(ref: string, only: Kind | undefined): Promise<unknown> {
  for (const kind of only === undefined ? kinds : [only]) {
    try {
      if (kind === "container") {
        const c = findMachineContainer(ref);
        const { record, ports } = readContainerRecord(c.containerDir);
        return dockerContainer(c, record, ports);
      }
      if (kind === "image") return dockerImage(await Store.default().inspect(ref));
      const volume = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(ref) ? readVolumeRecord(ref) : undefined;
      if (volume !== undefined) return dockerVolume(volume, volumeDataDir(ref));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return undefined;
}

/** Runs an inspect of `refs` (shared by `inspect` and `volume inspect`). */
export async function inspectRefs(refs: readonly string[], only: Kind | undefined, format: string | undefined, io: CliIo, commandUsage: string): Promise<number> {
  const render = formatter(format, commandUsage);
  const found: unknown[] = [];
  let failed = false;
  for (const ref of refs) {
    const value = await inspectObject(ref, only);
    if (value === undefined) {
      failed = true;
      io.stderr.write(`bento: no such ${only ?? "object"}: ${ref}\n`);
    } else {
      found.push(value);
    }
  }
  writeFormatted(io, found, render);
  return failed ? 1 : 0;
}

export const inspectCommand = dockerCommand({
  name: "inspect",
  summary: "Show containers, images and volumes as JSON (docker's shapes), or through --format",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length === 0) throw new UsageError("inspect needs at least one name or id", usage);
    const type = values.type;
    if (type !== undefined && !kinds.includes(type as Kind)) throw new UsageError(`--type "${type}": expected container, image or volume`, usage);
    return inspectRefs(positionals, type as Kind | undefined, values.format, io, usage);
  },
});
