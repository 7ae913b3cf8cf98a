/**
 * `bento history IMAGE`: the steps that made an image, newest first, as `docker history`.
 */
import { Store } from "../registry/store.js";
import type { ImageInspect } from "../store/types.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp } from "./command.js";
import { dockerCommand, formatter } from "./docker-command.js";
import { formatAgo, formatBytes, formatTable, shortId } from "./table.js";

const usage = `Usage: bento history [OPTIONS] IMAGE

Show the history of an image: one row per step, newest first.

Options:
      --format string   format each row with a Go template ({{.CreatedBy}}, {{.Size}}...) or "json"
      --no-trunc        do not truncate the output
  -q, --quiet           only show layer ids
  -h, --help            print this help
`;

const options = {
  ...helpOption,
  format: { type: "string" },
  "no-trunc": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
} as const;

/** One row of `history`, with docker's field names. */
export interface HistoryRow {
  ID: string;
  CreatedAt: string;
  CreatedSince: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

/**
 * The rows of `bento history`: each history entry, newest first; the top one carries the image
 * id and those that made no layer show "<missing>" as docker does, sizes from the layer blobs.
 *
 * @example
 * ```ts
 * for (const row of historyRows(await Store.default().inspect("alpine:3.20"))) console.log(row.CreatedBy);
 * ```
 */
export function historyRows(image: ImageInspect, now = new Date()): HistoryRow[] {
  let layer = 0;
  const rows = image.history.map((h, i) => {
    const size = h.empty_layer ? 0 : (image.layers[layer++]?.size ?? 0);
    return {
      ID: i === image.history.length - 1 ? image.id : "<missing>",
      CreatedAt: h.created ?? "",
      CreatedSince: h.created ? formatAgo(new Date(h.created), now) : "-",
      CreatedBy: h.created_by ?? "",
      Size: formatBytes(size),
      Comment: h.comment ?? "",
    };
  });
  return rows.reverse();
}

export const historyCommand = dockerCommand({
  name: "history",
  summary: "Show the history of an image",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(`history takes one image (got ${positionals.length})`, usage);
    const rows = historyRows(await Store.default().inspect(positionals[0]!));
    const render = formatter(values.format, usage);
    if (render !== undefined) {
      for (const row of rows) io.stdout.write(`${render(row)}\n`);
      return 0;
    }
    const truncate = !values["no-trunc"];
    if (values.quiet) {
      io.stdout.write(rows.map((r) => `${truncate && r.ID !== "<missing>" ? shortId(r.ID) : r.ID}\n`).join(""));
      return 0;
    }
    io.stdout.write(
      formatTable(
        ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        rows.map((r) => [truncate && r.ID !== "<missing>" ? shortId(r.ID) : r.ID, r.CreatedSince, truncate && r.CreatedBy.length > 45 ? `${r.CreatedBy.slice(0, 44)}…` : r.CreatedBy, r.Size, r.Comment]),
      ),
    );
    return 0;
  },
});
