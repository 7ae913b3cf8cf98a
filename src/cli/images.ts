/**
 * `bento images [-q] [--json]`: the images in the store (`BENTO_HOME`).
 */
import type { ImageSummary } from "../store/types.js";
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, writeJson, type Command } from "./command.js";
import { formatAgo, formatBytes, formatTable, shortId } from "./table.js";

const usage = `Usage: bento images [OPTIONS]

List the images in the store (BENTO_HOME), one row per tag; untagged images show as <none>.

Options:
  -q, --quiet   print only the image ids
      --json    print JSON (every field, full ids)
  -h, --help    print this help
`;

const options = { ...helpOption, quiet: { type: "boolean", short: "q" }, json: { type: "boolean" } } as const;

/** The table `bento images` prints. */
export function imagesTable(images: readonly ImageSummary[], now = new Date()): string {
  return formatTable(
    ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
    images.map((i) => [i.repository, i.tag, shortId(i.id), i.created ? formatAgo(new Date(i.created), now) : "-", formatBytes(i.sizeBytes)]),
  );
}

export const imagesCommand: Command = {
  name: "images",
  summary: "List the images in the store",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length > 0) throw new UsageError(`images takes no arguments (got "${positionals[0]}")`, usage);
    const images = await Store.default().images();
    if (values.json) writeJson(io, images);
    else if (values.quiet) io.stdout.write([...new Set(images.map((i) => shortId(i.id)))].map((id) => `${id}\n`).join(""));
    else io.stdout.write(imagesTable(images));
    return 0;
  },
};
