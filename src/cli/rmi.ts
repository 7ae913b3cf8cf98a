/**
 * `bento rmi [-f] IMAGE...`: removes images (or tags) from the store, as `docker rmi`.
 */
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, reportError } from "./command.js";
import { dockerCommand } from "./docker-command.js";

const usage = `Usage: bento rmi [OPTIONS] IMAGE [IMAGE...]

Remove one or more images. By tag: the tag, and the image if it was its last; by id or digest:
the image and its tags (-f when it has several). An image a container uses is never removed.

Options:
  -f, --force   remove an image given by id even if several tags name it
  -h, --help    print this help
`;

const options = { ...helpOption, force: { type: "boolean", short: "f" } } as const;

export const rmiCommand = dockerCommand({
  name: "rmi",
  summary: "Remove one or more images",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length === 0) throw new UsageError("rmi needs at least one image", usage);
    const store = Store.default();
    let failed = false;
    for (const ref of positionals) {
      try {
        const removed = await store.removeImage(ref, { force: values.force ?? false });
        io.stdout.write([...removed.untagged.map((t) => `Untagged: ${t}\n`), ...removed.deleted.map((d) => `Deleted: ${d}\n`)].join(""));
      } catch (error) {
        failed = true;
        reportError(io, error);
      }
    }
    return failed ? 1 : 0;
  },
});
