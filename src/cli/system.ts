/**
 * `bento system df|prune`: the store's disk use, and docker's name for `bento prune`.
 */
import { Store } from "../registry/store.js";
import type { DiskUsage } from "../store/types.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, writeJson } from "./command.js";
import { dockerCommand, formatter } from "./docker-command.js";
import { pruneCommand } from "./prune.js";
import { formatBytes, formatTable } from "./table.js";

const usage = `Usage: bento system COMMAND

Manage bento's store.

Commands:
  df      show the disk space the store (BENTO_HOME) uses
  prune   remove left-behind containers, unused anonymous volumes and dangling images
          (the same as "bento prune")

Options of df:
      --format string   "json", or a Go template over {{.Type}} {{.TotalCount}} {{.Size}}
  -v, --verbose         also show blobs and unpacked layers
Options of prune:
  -a, --all       also remove the build cache
      --volumes   also remove named volumes no container uses
  -f, --force     accepted for docker's scripts; bento never asks for confirmation
  -h, --help      print this help
`;

const dfOptions = { ...helpOption, format: { type: "string" }, verbose: { type: "boolean", short: "v" } } as const;
const pruneOptions = { ...helpOption, all: { type: "boolean", short: "a" }, volumes: { type: "boolean" }, force: { type: "boolean", short: "f" } } as const;

/**
 * The rows of `bento system df`, with docker's field names.
 *
 * @example
 * ```ts
 * for (const row of diskUsageRows(await Store.default().diskUsage(), false)) console.log(row.Type, row.Size);
 * ```
 */
export function diskUsageRows(usage: DiskUsage, verbose: boolean): { Type: string; TotalCount: number; Size: string }[] {
  const rows: [string, { count: number; sizeBytes: number }][] = [
    ["Images", usage.images],
    ["Containers", usage.containers],
    ["Local Volumes", usage.volumes],
    ["Build Cache", usage.cache],
    ...(verbose
      ? ([
          ["Blobs", usage.blobs],
          ["Unpacked layers", usage.layers],
        ] as [string, { count: number; sizeBytes: number }][])
      : []),
  ];
  return rows.map(([Type, u]) => ({ Type, TotalCount: u.count, Size: formatBytes(u.sizeBytes) }));
}

export const systemCommand = dockerCommand({
  name: "system",
  summary: "Show the store's disk use (df), or prune it",
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined) throw new UsageError("system needs a command: df or prune", usage);
    if (sub === "-h" || sub === "--help") return printHelp(io, usage);
    if (sub === "df") {
      const { values, positionals } = parseCommandArgs(rest, dfOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length > 0) throw new UsageError(`system df takes no arguments (got "${positionals[0]}")`, usage);
      const du = await Store.default().diskUsage();
      const rows = diskUsageRows(du, values.verbose ?? false);
      const render = formatter(values.format, usage);
      if (values.format === "json") writeJson(io, { ...du, rows });
      else if (render !== undefined) for (const row of rows) io.stdout.write(`${render(row)}\n`);
      else
        io.stdout.write(
          `${formatTable(
            ["TYPE", "TOTAL", "SIZE"],
            rows.map((r) => [r.Type, String(r.TotalCount), r.Size]),
          )}\nTotal: ${formatBytes(du.totalBytes)}, reclaimable: ${formatBytes(du.reclaimableBytes)}\n`,
        );
      return 0;
    }
    if (sub === "prune") {
      const { values, positionals } = parseCommandArgs(rest, pruneOptions, usage);
      if (values.help) return printHelp(io, usage);
      if (positionals.length > 0) throw new UsageError(`system prune takes no arguments (got "${positionals[0]}")`, usage);
      return pruneCommand.run([...(values.all ? ["--all"] : []), ...(values.volumes ? ["--volumes"] : [])], io);
    }
    throw new UsageError(`unknown system command "${sub}"; use df or prune`, usage);
  },
});
