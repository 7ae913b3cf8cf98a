/**
 * `bento load -i FILE`: imports the images of a `docker save` tar, an OCI archive or an OCI
 * layout directory into the store.
 */
import { resolve } from "node:path";
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";

const usage = `Usage: bento load [OPTIONS]

Load images from a tar archive ("docker save", an OCI archive, gzipped or not) or an OCI
image-layout directory. Every blob is verified before anything is added. Unlike docker, bento
reads a file only (-i is required).

Options:
  -i, --input string   read from this file or directory (required)
  -q, --quiet          print nothing
  -h, --help           print this help
`;

const options = { ...helpOption, input: { type: "string", short: "i" }, quiet: { type: "boolean", short: "q" } } as const;

export const loadCommand = dockerCommand({
  name: "load",
  summary: "Load images from a tar archive or an OCI layout",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length > 0) throw new UsageError(`load takes no arguments (got "${positionals[0]}"); give the archive with -i`, usage);
    if (values.input === undefined) throw new UsageError("load needs -i FILE: bento does not read an archive from stdin", usage);
    const result = await Store.default().import(resolve(values.input));
    if (!values.quiet) {
      for (const image of result.images) {
        io.stdout.write(image.tags.length > 0 ? image.tags.map((t) => `Loaded image: ${t}\n`).join("") : `Loaded image ID: ${image.id}\n`);
      }
      for (const skipped of result.skipped) io.stderr.write(`skipped ${skipped.digest}: ${skipped.reason}\n`);
    }
    return 0;
  },
});
