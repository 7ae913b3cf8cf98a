/**
 * `bento compose pull [-q] [SERVICE...]`: pulls the images of a compose file's services, as
 * `bento pull` does; services with a `build:` section are built, not pulled (compose build).
 */
import { loadCompose } from "../stack/compose/load.js";
import { parseCommandArgs, UsageError } from "./args.js";
import type { CliIo } from "./command.js";
import { pullCommand } from "./pull.js";

const options = { quiet: { type: "boolean", short: "q" } } as const;

/** Pulls each image once, in the order the file lists the services; stops at the first failure. */
export async function composePull(file: string | string[], args: string[], usage: string, io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options, usage);
  const plan = loadCompose(file);
  for (const name of positionals) {
    if (plan.services[name] === undefined) throw new UsageError(`stack ${plan.name} has no service "${name}" (services: ${Object.keys(plan.services).join(", ")})`, usage);
  }
  const names = positionals.length > 0 ? positionals : Object.keys(plan.services);
  const refs = new Set(names.flatMap((n) => (plan.services[n]!.build === undefined && plan.services[n]!.image !== undefined ? [plan.services[n]!.image!] : [])));
  for (const ref of refs) {
    const code = await pullCommand.run([...(values.quiet ? ["-q"] : []), ref], io);
    if (code !== 0) return code;
  }
  return 0;
}
