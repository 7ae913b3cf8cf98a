/**
 * `bento compose pull [-q] [SERVICE...]`: pulls the images of a compose file's services, as
 * `bento pull` does; services with a `build:` section are built, not pulled (compose build).
 */
import { loadCompose } from "../stack/compose/load.js";
import { parseCommandArgs } from "./args.js";
import { chosenServices } from "./compose-chosen.js";
import type { CliIo } from "./command.js";
import { pullCommand } from "./pull.js";

const options = { quiet: { type: "boolean", short: "q" } } as const;

/** Pulls each image once, in the order the file lists the services; stops at the first failure. */
export async function composePull(file: string | string[], args: string[], usage: string, io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options, usage);
  const plan = loadCompose(file);
  const names = chosenServices(plan, positionals, usage);
  const refs = new Set(names.flatMap((n) => (plan.services[n]!.build === undefined && plan.services[n]!.image !== undefined ? [plan.services[n]!.image!] : [])));
  for (const ref of refs) {
    const code = await pullCommand.run([...(values.quiet ? ["-q"] : []), ref], io);
    if (code !== 0) return code;
  }
  return 0;
}
