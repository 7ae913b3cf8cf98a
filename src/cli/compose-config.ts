/**
 * `bento compose [-f FILE] config`: the compose model bento will run, as `docker compose config`
 * prints it (files merged, variables interpolated, extends resolved, long syntax), or its service,
 * volume or profile names. Keys bento would refuse or ignore are listed on stderr.
 */
import { resolve } from "node:path";
import { stringify } from "yaml";
import { loadCompose } from "../stack/compose/load.js";
import { composeModel } from "../stack/compose/model.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, writeJson, type CliIo, type Command } from "./command.js";

const usage = `Usage: bento compose [-f FILE] config [--services | --volumes | --profiles] [--format yaml|json]

Print the compose model bento runs: the files merged and interpolated, extends and includes
resolved, every entry in its long form. Where bento differs from compose it says so: a port
without a host address is published on 127.0.0.1 and ::1 only (x-bento-host-ips).
Keys bento would refuse, and warnings, go to stderr.

Options:
  -f, --file FILE     a compose file; several merge in order (default: compose.yaml and its override)
      --services      print the service names, one per line
      --volumes       print the top-level volume names, one per line
      --profiles      print the profiles the services use, one per line
      --format FORMAT yaml (default) or json
  -h, --help          print this help
`;

const options = {
  ...helpOption,
  file: { type: "string", short: "f", multiple: true },
  services: { type: "boolean" },
  volumes: { type: "boolean" },
  profiles: { type: "boolean" },
  format: { type: "string" },
} as const;

/**
 * `bento compose config`, run with the arguments of `bento compose` (its -f before `config`).
 *
 * @example
 * ```ts
 * await composeConfigCommand.run(["-f", "compose.yaml", "config", "--services"], io);
 * ```
 */
export const composeConfigCommand: Command = {
  name: "compose config",
  summary: "Print the resolved compose model",
  usage,
  async run(args, io: CliIo) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    const extra = positionals.filter((p) => p !== "config");
    if (extra.length > 0) throw new UsageError(`compose config takes no arguments (got "${extra[0]}")`, usage);
    const format = values.format ?? "yaml";
    if (format !== "yaml" && format !== "json") throw new UsageError(`--format "${format}": use yaml or json`, usage);
    const lists = [values.services, values.volumes, values.profiles].filter(Boolean).length;
    if (lists > 1) throw new UsageError("give one of --services, --volumes and --profiles", usage);
    // Given files merge in order; else the directory's compose file with its override.
    const plan = values.file !== undefined && values.file.length > 0 ? loadCompose(values.file.map((f) => resolve(f))) : loadCompose(process.cwd());
    for (const warning of plan.warnings) io.stderr.write(`bento: warning: ${warning}\n`);
    for (const key of plan.unsupported) io.stderr.write(`bento: ${key.path}: ${key.reason}\n`);
    let names: string[] | undefined;
    if (values.services) names = Object.keys(plan.services);
    if (values.volumes) names = Object.keys(plan.volumes);
    if (values.profiles) names = [...new Set(Object.values(plan.services).flatMap((s) => s.profiles))].sort();
    if (names !== undefined) {
      if (format === "json") writeJson(io, names);
      else for (const name of names) io.stdout.write(`${name}\n`);
      return 0;
    }
    const model = composeModel(plan);
    if (format === "json") writeJson(io, model);
    else io.stdout.write(stringify(model, { lineWidth: 0 }));
    return 0;
  },
};
