/**
 * `bento build -t TAG [-f Dockerfile] [--build-arg K=V] CONTEXT`: builds a Dockerfile into the
 * store, showing each step as it runs; `--cache-from` / `--cache-to` read and write a registry
 * build cache, `--push` pushes the tags.
 */
import { join, resolve } from "node:path";
import { parseCacheTarget } from "../config.js";
import { Image } from "../image/image.js";
import { Store } from "../registry/store.js";
import { helpOption, parseCommandArgs, parseKeyValues, UsageError } from "./args.js";
import { printHelp, type CliIo, type Command } from "./command.js";
import { progressLine } from "./build-progress-line.js";
import { parseProgressMode, progressDisplay } from "./progress-display.js";

import type { BuildCacheReport } from "../image/build-cache-types.js";

const usage = `Usage: bento build [OPTIONS] CONTEXT

Build an image from a Dockerfile into the store (BENTO_HOME). Progress goes to stderr; the image
id is printed on stdout.

Options:
  -t, --tag NAME[:TAG]      tag the image (repeatable)
  -f, --file PATH           the Dockerfile (default CONTEXT/Dockerfile)
      --build-arg KEY=VALUE set a build argument (repeatable; KEY alone: from this environment)
      --target STAGE        build this stage (FROM ... AS STAGE)
      --network MODE        network of RUN steps that name none: default (their own, with
                            outbound access), host or none
      --no-cache            run every step again
      --cache-from REF      read a registry build cache (repeatable; default BENTO_CACHE_FROM)
      --cache-to REF[,mode=max]
                            write the build cache to a registry (default BENTO_CACHE_TO; mode
                            min: the final image's steps, max: every step)
      --push                push every tag to its registry after the build
      --progress MODE       auto (default: tty when stderr is a terminal), plain, tty or quiet
  -q, --quiet               print only the image id
  -h, --help                print this help
`;

const options = {
  ...helpOption,
  tag: { type: "string", short: "t", multiple: true },
  file: { type: "string", short: "f" },
  "build-arg": { type: "string", multiple: true },
  target: { type: "string" },
  network: { type: "string" },
  "no-cache": { type: "boolean" },
  "cache-from": { type: "string", multiple: true },
  "cache-to": { type: "string" },
  push: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  progress: { type: "string" },
} as const;

function parseCacheTo(text: string): { ref: string; mode: "min" | "max" } {
  try {
    return parseCacheTarget(text, "--cache-to");
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
}

function parseNetwork(text: string): "default" | "host" | "none" {
  if (text === "default" || text === "host" || text === "none") return text;
  throw new UsageError(`--network ${text}: a build's RUN steps take default, host or none (a named network is for containers: bento run --network)`, usage);
}

/** The lines that tell what the registry build caches gave and took. */
function cacheLines(report: BuildCacheReport | undefined): string[] {
  if (report === undefined) return [];
  const lines = report.imports.map((i) => `cache: ${i.hits} of this build's steps from ${i.ref} (${i.steps} in it), ${i.downloadedBytes} bytes downloaded`);
  if (report.export !== undefined) lines.push(`cache: ${report.export.steps} steps written to ${report.export.ref} (mode ${report.export.mode}), ${report.export.uploadedBytes} bytes uploaded`);
  return lines;
}

export const buildCommand: Command = {
  name: "build",
  summary: "Build an image from a Dockerfile",
  usage,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "build needs a context directory (e.g. .)" : "build takes one context directory", usage);
    await import("../builder/index.js"); // installs the engine that Image.build() calls
    const context = resolve(positionals[0]!);
    const dockerfile = resolve(values.file ?? join(context, "Dockerfile"));
    const buildArgs = parseKeyValues("--build-arg", values["build-arg"], usage, process.env);
    const image = Image.fromDockerfile(dockerfile, { context, buildArgs, ...(values.target === undefined ? {} : { target: values.target }) });
    const quiet = values.quiet ?? false;
    const tags = values.tag ?? [];
    if (values.push && tags.length === 0) throw new UsageError("--push needs a tag to push (-t registry.example.com/app:1)", usage);
    const display = progressDisplay(quiet ? "quiet" : parseProgressMode(values.progress, usage), io.stderr);
    const result = await image
      .build({
        tag: tags,
        context,
        noCache: values["no-cache"] ?? false,
        ...(values.network === undefined ? {} : { network: parseNetwork(values.network) }),
        ...(values["cache-from"] === undefined ? {} : { cacheFrom: values["cache-from"] }),
        ...(values["cache-to"] === undefined ? {} : { cacheTo: parseCacheTo(values["cache-to"]) }),
        onProgress: (event) => {
          if (quiet && event.type === "warning") io.stderr.write(`${progressLine(event)}\n`);
          else display.build(event);
        },
      })
      .finally(() => display.end());
    if (!quiet) {
      for (const tag of result.tags) io.stderr.write(`tagged ${tag}\n`);
      for (const line of cacheLines(result.cache)) io.stderr.write(`${line}\n`);
    }
    if (values.push) {
      const store = Store.default();
      for (const tag of result.tags) {
        const pushed = await store.push(tag);
        if (!quiet) io.stderr.write(`pushed ${pushed.reference} (${pushed.manifestDigest}, ${pushed.uploadedBytes} bytes uploaded)\n`);
      }
    }
    io.stdout.write(`${result.id}\n`);
    return 0;
  },
};
