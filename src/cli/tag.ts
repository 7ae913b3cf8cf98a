/**
 * `bento tag SOURCE TARGET`: points a tag at an image of the store.
 */
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";

const usage = `Usage: bento tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE (a tag, an id or a digest). A tag names one
image: moving it leaves the image it named before untagged if no other tag points there.

Options:
  -h, --help   print this help
`;

export const tagCommand = dockerCommand({
  name: "tag",
  summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 2) throw new UsageError(`tag takes a source image and a target tag (got ${positionals.length} arguments)`, usage);
    await Store.default().tag(positionals[0]!, positionals[1]!);
    return 0;
  },
});
