/**
 * `bento run [OPTIONS] <rootfs-dir|image-ref> [CMD...]`: starts a container in the foreground,
 * prints its output, removes it, and exits with its exit code; with -d, starts it detached,
 * prints its id and returns at once.
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Container } from "../container/container.js";
import type { ImageLike } from "../container/image-source.js";
import type { ContainerOptions } from "../container/options.js";
import { BentoError } from "../errors.js";
import { Image } from "../image/image.js";
import { helpOption, parseCommandArgs, parseKeyValues, parsePublish, UsageError } from "./args.js";
import { printHelp, type CliIo, type Command } from "./command.js";
import { ourConsoleSize, runInForeground, terminalFlags, terminalUsage } from "./terminal-session.js";
import { applyExtraRunFlags, extraRunOptions, extraRunUsage } from "./run-flags.js";
import { applySystemRunFlags, systemRunOptions, systemRunUsage } from "./run-system-flags.js";
import { startRemover } from "./remove-when-exited.js";

const usage = `Usage: bento run [OPTIONS] IMAGE [COMMAND [ARG...]]

Run a command in a new container, print its output, remove it, and exit with its exit code.

IMAGE is a root filesystem directory when it is a path (it starts with "/", "./" or "../"),
else an image reference from the store (BENTO_HOME), e.g. alpine:3.20.

A container lives as long as the process that started it: when bento run ends, for any reason,
its container is removed, with or without --rm. With -d it outlives bento run: its id is
printed, and bento exec, logs, inspect, stop, wait and rm reach it from any process.

Options:
  -d, --detach              run the container in the background and print its id
      --rm                  remove the container when it exits (always done without -d)
  -e, --env KEY=VALUE       set an environment variable (KEY alone: take it from this environment)
  -p, --publish PORT        publish a container port (on 127.0.0.1 and ::1 unless HOST_IP is given):
                            [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/udp], ranges as 8000-8001:80-81
  -v, --volume SRC:DST[:ro] mount a volume (SRC a name) or a host path (SRC a path)
      --name NAME           name the container (unique on this machine)
  -u, --user USER[:GROUP]   run as this user (name or id, from the image's /etc/passwd)
  -w, --workdir DIR         the working directory inside the container
${terminalUsage(28)}${extraRunUsage}${systemRunUsage}  -h, --help                print this help
`;

const options = {
  ...helpOption,
  ...extraRunOptions,
  ...systemRunOptions,
  rm: { type: "boolean" },
  detach: { type: "boolean", short: "d" },
  env: { type: "string", short: "e", multiple: true },
  publish: { type: "string", short: "p", multiple: true },
  volume: { type: "string", short: "v", multiple: true },
  name: { type: "string" },
  user: { type: "string", short: "u" },
  workdir: { type: "string", short: "w" },
  ...terminalFlags,
} as const;

/** True when the IMAGE argument names a directory rather than an image reference. */
export function isPathArgument(arg: string): boolean {
  return arg.startsWith("/") || arg.startsWith("./") || arg.startsWith("../") || arg === "." || arg === "..";
}

async function imageOf(arg: string): Promise<ImageLike> {
  if (isPathArgument(arg)) {
    const dir = resolve(arg);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new BentoError("ERR_NOT_FOUND", `${arg}: no such directory; give a root filesystem directory, or an image reference`);
    }
    return Image.fromRootfs(dir);
  }
  // Containers run store images through the build engine, which builder/index.ts installs.
  await import("../builder/index.js");
  return Image.from(arg);
}

/** The container options the flags describe. */
export function runOptions(values: { env?: string[]; publish?: string[]; volume?: string[]; name?: string; user?: string; workdir?: string }, command: string[], env: NodeJS.ProcessEnv = {}): ContainerOptions {
  const options: ContainerOptions = {
    env: parseKeyValues("-e", values.env, usage, env),
    // docker run publishes nothing unless asked (bento's SDK default is the image's EXPOSE).
    ports: (values.publish ?? []).flatMap((p) => parsePublish(p, usage)),
    mounts: values.volume ?? [],
  };
  if (values.name !== undefined) options.name = values.name;
  if (values.user !== undefined) options.user = values.user;
  if (values.workdir !== undefined) options.workdir = values.workdir;
  if (command.length > 0) options.command = command;
  return options;
}

export const runCommand: Command = {
  name: "run",
  summary: "Run a command in a new container",
  usage,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseCommandArgs(args, options, usage, true);
    if (values.help) return printHelp(io, usage);
    const [imageArg, ...command] = positionals;
    if (imageArg === undefined) throw new UsageError("run needs an image: a root filesystem directory or an image reference", usage);
    const containerOptions = runOptions(values, command, process.env);
    applyExtraRunFlags(values, containerOptions, usage, process.env);
    applySystemRunFlags(values, containerOptions, usage);
    if (values.detach) containerOptions.detach = true;
    const flags = { tty: values.tty === true, interactive: values.interactive === true };
    if (flags.tty) Object.assign(containerOptions, { tty: true }, ourConsoleSize() ? { consoleSize: ourConsoleSize() } : {});
    if (flags.interactive) containerOptions.interactive = true;
    const image = await imageOf(imageArg);
    let running;
    try {
      running = await new Container(image, containerOptions).start();
    } catch (error) {
      if (!isPathArgument(imageArg) && existsSync(imageArg) && statSync(imageArg).isDirectory()) {
        throw new BentoError("ERR_RUN", `${(error as Error).message} (to run the directory "${imageArg}", write ./${imageArg})`, { cause: error });
      }
      throw error;
    }
    for (const p of containerOptions.ports ?? []) {
      if (typeof p !== "object" || p.host !== 0) continue;
      const port = running.hostPort(p.container, p.protocol);
      const where = p.hostIp === undefined ? `127.0.0.1:${port} and [::1]:${port}` : p.hostIp.includes(":") ? `[${p.hostIp}]:${port}` : `${p.hostIp}:${port}`;
      io.stderr.write(`bento: ${p.container}/${p.protocol} is published on ${where}\n`);
    }
    if (values.detach) {
      if (values.rm) startRemover(running.id);
      io.stdout.write(`${running.id}\n`);
      return 0;
    }
    const exitCode = await runInForeground(running, flags, io);
    await (await running.stop()).remove();
    return exitCode;
  },
};
