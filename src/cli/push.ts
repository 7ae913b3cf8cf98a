/**
 * `bento push [--progress MODE] [-q] NAME[:TAG]`: a store image to the registry its name
 * names, with docker's progress display.
 */
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { parseProgressMode, progressDisplay } from "./progress-display.js";

const usage = `Usage: bento push [OPTIONS] NAME[:TAG]

Upload an image of the store to the registry its name names (tag it first: bento tag IMAGE
registry.example.com/app:1). Blobs the registry holds are skipped. Progress goes to stderr.

Options:
      --progress string   auto (default: tty on a terminal), plain, tty or quiet
  -q, --quiet             suppress the progress output
  -h, --help              print this help
`;

const options = { ...helpOption, progress: { type: "string" }, quiet: { type: "boolean", short: "q" } } as const;

export const pushCommand = dockerCommand({
  name: "push",
  summary: "Upload an image to a registry",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(`push takes one image reference (got ${positionals.length})`, usage);
    const display = progressDisplay(values.quiet ? "quiet" : parseProgressMode(values.progress, usage), io.stderr);
    try {
      const result = await Store.default().push(positionals[0]!, { onProgress: (e) => display.transfer(e) });
      display.end();
      if (!values.quiet) io.stderr.write(`${result.reference}: digest: ${result.manifestDigest} (${result.uploadedBlobs} blobs uploaded, ${result.existingBlobs} already there, ${result.mountedBlobs} mounted)\n`);
      io.stdout.write(`${result.reference}\n`);
      return 0;
    } finally {
      display.end();
    }
  },
});
