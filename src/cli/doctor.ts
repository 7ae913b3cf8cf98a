/**
 * `bento doctor [--json]`: what this machine supports (root or not, user namespaces, id ranges,
 * overlay, cgroups and delegation, network, kernel) and the fix for each missing piece.
 */
import { doctor } from "../runtime/doctor.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, writeJson, type Command } from "./command.js";

const usage = `Usage: bento doctor [OPTIONS]

Check what this machine supports for bento, as root or as a normal user, and print the fix for
each missing piece. Exits 1 when something bento needs is missing.

Options:
      --json    print JSON
  -h, --help    print this help
`;

const options = { ...helpOption, json: { type: "boolean" } } as const;

export const doctorCommand: Command = {
  name: "doctor",
  summary: "Check what this machine supports, with fixes",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length > 0) throw new UsageError(`doctor takes no arguments (got "${positionals[0]}")`, usage);
    const report = await doctor();
    if (values.json) {
      writeJson(io, report);
    } else {
      io.stdout.write(`bento on Linux ${report.kernel}, ${report.rootless ? "rootless" : "as root"}\n`);
      for (const c of report.checks) {
        io.stdout.write(`${c.status.padEnd(7)}  ${c.name}: ${c.detail}\n`);
        if (c.fix) io.stdout.write(`${"".padEnd(9)}fix: ${c.fix}\n`);
      }
    }
    return report.checks.some((c) => c.status === "missing") ? 1 : 0;
  },
};
