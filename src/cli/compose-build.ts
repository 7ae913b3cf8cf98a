/**
 * `bento compose build [--no-cache] [-q] [SERVICE...]`: builds the images of a compose file's
 * services that have a `build:` section, as `bento build` does, and tags each as compose does:
 * its `image:` name, else `<project>-<service>`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCompose } from "../stack/compose/load.js";
import type { BuildPlan } from "../stack/plan.js";
import { parseCommandArgs } from "./args.js";
import { chosenServices } from "./compose-chosen.js";
import { buildCommand } from "./build.js";
import type { CliIo } from "./command.js";

const options = { "no-cache": { type: "boolean" }, quiet: { type: "boolean", short: "q" } } as const;

/** `bento build` arguments for one service's build, with its Dockerfile at `dockerfile`. */
function buildArgs(tag: string, build: BuildPlan, dockerfile: string | undefined, flags: string[]): string[] {
  return [
    "-t",
    tag,
    ...(dockerfile === undefined ? [] : ["-f", dockerfile]),
    ...Object.entries(build.args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ...(build.target === undefined ? [] : ["--target", build.target]),
    ...flags,
    build.context,
  ];
}

/** Builds the services' images in the order the file lists them; stops at the first failure. */
export async function composeBuild(file: string | string[], args: string[], usage: string, io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options, usage);
  const plan = loadCompose(file);
  const names = chosenServices(plan, positionals, usage);
  const flags = [...(values["no-cache"] ? ["--no-cache"] : []), ...(values.quiet ? ["-q"] : [])];
  for (const name of names) {
    const service = plan.services[name]!;
    if (service.build === undefined) continue;
    const tag = service.image ?? `${plan.name}-${name}`;
    if (!values.quiet) io.stderr.write(`${name}: building ${tag}\n`);
    // An inline Dockerfile goes through a file, as bento build reads one.
    const inlineDir = service.build.dockerfileInline === undefined ? undefined : mkdtempSync(join(tmpdir(), "bento-compose-build-"));
    try {
      if (inlineDir !== undefined) writeFileSync(join(inlineDir, "Dockerfile"), service.build.dockerfileInline!);
      const code = await buildCommand.run(buildArgs(tag, service.build, inlineDir === undefined ? service.build.dockerfile : join(inlineDir, "Dockerfile"), flags), io);
      if (code !== 0) return code;
    } finally {
      if (inlineDir !== undefined) rmSync(inlineDir, { recursive: true, force: true });
    }
  }
  return 0;
}
