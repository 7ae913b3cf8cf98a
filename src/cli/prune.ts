/**
 * `bento prune`: removes what tests left behind: containers whose process died, volumes no
 * container uses, and dangling (untagged, unused) images; the build cache only with `--all`.
 */
import { join } from "node:path";
import { sweepLeftBehind } from "../runtime/machine-containers.js";
import { BUILD_CACHE_REPOSITORY } from "../store/build-cache-ref.js";
import { bytesOnOwnFileSystem } from "../store/disk-usage.js";
import { ContainerRecordUsage } from "../store/image-usage.js";
import { buildLocksDir, removeFreeLocks } from "../store/lock.js";
import { Store } from "../registry/store.js";
import { Volume } from "../volume/volume.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, type Command } from "./command.js";
import { formatBytes, shortId } from "./table.js";

const usage = `Usage: bento prune

Remove what processes left behind, in this order:
  1. containers whose process died (their cgroups, upper dirs, logs and anonymous volumes),
     as the SDK's first start in a process does, and detached containers that exited;
  2. anonymous volumes no container uses (named ones too with --volumes);
  3. dangling images: untagged images no container uses;
  4. with --all, the build cache too: the images of builds without a tag (bento-build-cache,
     as "bento images" lists them) that no container uses. The next build of those images
     runs every step again.
Containers of live processes, running detached containers, the volumes and images they use, tagged images and (without
--all) the build cache are kept.

Options:
      --volumes   also remove named volumes no container uses
      --all       also remove the build cache
  -h, --help      print this help
`;

const options = { ...helpOption, volumes: { type: "boolean" }, all: { type: "boolean" } } as const;

export const pruneCommand: Command = {
  name: "prune",
  summary: "Remove left-behind containers, unused volumes and dangling images",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length > 0) throw new UsageError(`prune takes no arguments (got "${positionals[0]}")`, usage);
    const store = Store.default();
    const before = await bytesOnOwnFileSystem(store.root);

    const containers = sweepLeftBehind();
    if (containers.length > 0) {
      io.stdout.write("Deleted containers:\n");
      for (const c of containers) io.stdout.write(`${shortId(c.id)}   ${c.name}\n`);
    }

    const volumes = await Volume.prune({ all: values.volumes === true });
    if (volumes.length > 0) {
      io.stdout.write(`${containers.length > 0 ? "\n" : ""}Deleted volumes:\n`);
      for (const name of volumes) io.stdout.write(`${name}\n`);
    }

    const cacheTags = values.all === true ? await untagBuildCache(store) : [];
    const images = await store.pruneImages();
    const untagged = [...cacheTags, ...images.untagged];
    if (untagged.length + images.deleted.length > 0) {
      io.stdout.write(`${containers.length + volumes.length > 0 ? "\n" : ""}Deleted images:\n`);
      for (const tag of untagged) io.stdout.write(`untagged: ${tag}\n`);
      for (const id of images.deleted) io.stdout.write(`deleted: ${id}\n`);
    }
    // Lock files of finished builds; one a build in progress holds stays.
    await removeFreeLocks(buildLocksDir(store.root));

    if (containers.length + volumes.length + untagged.length + images.deleted.length > 0) io.stdout.write("\n");
    // Measured, not summed from what each step says it removed: a container's anonymous volumes,
    // orphaned layers and the rest all count, each once. Another process writing to the store
    // meanwhile makes it smaller, never negative.
    const reclaimed = Math.max(0, before - (await bytesOnOwnFileSystem(store.root)));
    io.stdout.write(`Total reclaimed space: ${formatBytes(reclaimed)}\n`);
    return 0;
  },
};

/** Removes the build-cache tags of images no container uses; returns them. */
async function untagBuildCache(store: Store): Promise<string[]> {
  const usage = new ContainerRecordUsage(join(store.root, "containers"));
  const untagged: string[] = [];
  for (const image of await store.images()) {
    if (image.repository !== BUILD_CACHE_REPOSITORY || (await usage.containersUsing(image.id)).length > 0) continue;
    const ref = `${image.repository}:${image.tag}`;
    await store.untag(ref);
    untagged.push(ref);
  }
  return untagged;
}
