/**
 * `bento pull [--platform P] [--progress MODE] [-q] NAME[:TAG|@DIGEST]`: an image from its
 * registry into the store, with docker's progress display.
 */
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";
import { parseProgressMode, progressDisplay } from "./progress-display.js";

const usage = `Usage: bento pull [OPTIONS] NAME[:TAG|@DIGEST]

Download an image from a registry into the store (BENTO_HOME). Progress goes to stderr.

Options:
      --platform string   pull this platform (os/arch[/variant]) of a multi-platform image
      --progress string   auto (default: tty on a terminal), plain, tty or quiet
  -q, --quiet             suppress the progress output
  -h, --help              print this help
`;

const options = { ...helpOption, platform: { type: "string" }, progress: { type: "string" }, quiet: { type: "boolean", short: "q" } } as const;

export const pullCommand = dockerCommand({
  name: "pull",
  summary: "Download an image from a registry",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(`pull takes one image reference (got ${positionals.length})`, usage);
    const display = progressDisplay(values.quiet ? "quiet" : parseProgressMode(values.progress, usage), io.stderr);
    const ref = positionals[0]!;
    try {
      const result = await Store.default().pull(ref, { ...(values.platform === undefined ? {} : { platform: values.platform }), onProgress: (e) => display.transfer(e) });
      display.end();
      if (!values.quiet) io.stderr.write(`Digest: ${result.manifestDigest}\nStatus: ${result.downloadedBlobs > 0 ? "Downloaded newer image" : "Image is up to date"} for ${result.reference}\n`);
      io.stdout.write(`${result.reference}\n`);
      return 0;
    } finally {
      display.end();
    }
  },
});
