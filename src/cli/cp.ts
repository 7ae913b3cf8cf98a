/**
 * `bento cp CONTAINER:SRC DEST` and `bento cp SRC CONTAINER:DEST`: copies files out of and into
 * a detached container, running or exited, as docker cp (modes and ownership kept).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Container } from "../container/container.js";
import { BentoError } from "../errors.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand } from "./docker-command.js";

const usage = `Usage: bento cp CONTAINER:SRC_PATH DEST_PATH
       bento cp SRC_PATH CONTAINER:DEST_PATH

Copy a file or a directory out of, or into, a detached container (bento run -d), by name, id or
id prefix, running or exited. Modes and ownership are kept. A path inside the container is
absolute; a host path with a ":" in it is written as a path (./a:b, /x/a:b). Into a running
container, and out of one, the copy goes through a tar in its image, as kubectl cp does.
Unlike docker cp, "-" (a tar stream on stdin or stdout) is not supported.

Options:
  -h, --help   print this help
`;

/** `CONTAINER:PATH` when `arg` names a container path; else undefined (a host path). */
function containerPath(arg: string): { ref: string; path: string } | undefined {
  if (arg.startsWith("/") || arg.startsWith(".")) return undefined;
  const colon = arg.indexOf(":");
  if (colon <= 0) return undefined;
  return { ref: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export const cpCommand = dockerCommand({
  name: "cp",
  summary: "Copy files out of or into a detached container",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 2) throw new UsageError("cp takes a source and a destination, one of them CONTAINER:PATH", usage);
    const [from, to] = positionals as [string, string];
    if (from === "-" || to === "-") throw new UsageError('"-" (a tar stream) is not supported; copy to or from a host path', usage);
    const source = containerPath(from);
    const dest = containerPath(to);
    if ((source === undefined) === (dest === undefined)) throw new UsageError(`exactly one of "${from}" and "${to}" must be CONTAINER:PATH`, usage);
    if (source !== undefined) {
      await (await Container.attach(source.ref)).copyFrom(source.path, resolve(to));
      return 0;
    }
    const hostPath = resolve(from);
    if (!existsSync(hostPath)) throw new BentoError("ERR_NOT_FOUND", `${from}: no such file or directory on this host`);
    await (await Container.attach(dest!.ref)).copyTo(hostPath, dest!.path);
    return 0;
  },
});
