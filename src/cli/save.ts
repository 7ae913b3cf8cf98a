/**
 * `bento save -o FILE IMAGE`: writes an image to a tar archive `docker load` reads.
 */
import { isAbsolute, resolve } from "node:path";
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";

const usage = `Usage: bento save [OPTIONS] IMAGE

Save an image to a tar archive: an OCI image layout with docker's manifest.json, which
"docker load" and "bento load" read. Unlike docker, bento writes to a file only (-o is required)
and one image per archive.

Options:
  -o, --output string   write to this file (required)
      --format string   docker (default: docker's archive, also an OCI layout) or oci
  -h, --help            print this help
`;

const options = { ...helpOption, output: { type: "string", short: "o" }, format: { type: "string" } } as const;

export const saveCommand = dockerCommand({
  name: "save",
  summary: "Save an image to a tar archive",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(`save takes one image (got ${positionals.length})`, usage);
    if (values.output === undefined) throw new UsageError("save needs -o FILE: bento does not write an archive to stdout", usage);
    const format = values.format ?? "docker";
    if (format !== "docker" && format !== "oci") throw new UsageError(`--format "${format}": expected docker or oci`, usage);
    const path = isAbsolute(values.output) ? values.output : resolve(values.output);
    await Store.default().export(positionals[0]!, path, { format });
    return 0;
  },
});
