/**
 * `bento compose [-f FILE] up|down|ps|logs|exec|config`: runs a compose file's services in the
 * foreground (`up`) or in the background (`up -d`), reaches them from any process (`ps`, `logs`,
 * `exec`), and takes down the stack a `bento compose up` runs (`down`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BentoError } from "../errors.js";
import { listMachineContainers, removeMachineContainer } from "../runtime/machine-containers.js";
import { Volume } from "../volume/volume.js";
import { listVolumeRecords } from "../volume/volume-store.js";
import type { Stack } from "../stack/stack.js";
import { helpOption, parseCommandArgs, splitAtFirstPositional, UsageError } from "./args.js";
import { composeBuild } from "./compose-build.js";
import { composeConfigCommand } from "./compose-config.js";
import { composePull } from "./compose-pull.js";
import { isKeeper, keep, startKeeper } from "./keeper.js";
import { composeExec, composeLogs, composePs } from "./compose-services.js";
import { printHelp, reportError, type CliIo, type Command } from "./command.js";

const usage = `Usage: bento compose [-f FILE] up [-d] [SERVICE...]
       bento compose [-f FILE] down [-v]
       bento compose [-f FILE] ps [-a] [-q] [--services] [SERVICE...]
       bento compose [-f FILE] logs [-f] [-t] [--tail N] [SERVICE...]
       bento compose [-f FILE] exec [-e KEY=VALUE] [-u USER] [-w DIR] SERVICE COMMAND [ARG...]
       bento compose [-f FILE] build [--no-cache] [-q] [SERVICE...]
       bento compose [-f FILE] pull [-q] [SERVICE...]
       bento compose [-f FILE] config [--services|--volumes|--profiles] [--format json]

Run a compose file's services with bento.

  up     start the services (dependencies first, each once those it depends on are started,
         healthy or completed, as depends_on asks), print their output prefixed with the service
         name, and take everything down when they have all exited or on Ctrl-C; with -d, run
         them in the background and return once they are up: they outlive bento compose up,
         until bento compose down
  down   remove the stack's containers, wherever they run: a "bento compose up" that runs them
         (in the foreground, or in the background with -d) is asked to stop (SIGTERM), which
         removes them; containers of other processes are killed and removed
  ps     list the stack's containers: name, service, status and published ports
  logs   print the services' output, each line prefixed with its service; -f follows it until
         the containers end
  exec   run a command in a service's container, as bento exec (exit code as the command's)
  build  build the images of the services with a build: section, as bento build, tagged with
         their image: name, else <project>-<service>
  pull   pull the images of the services without a build: section, as bento pull
  config print the resolved compose model (see bento compose config --help)

Options:
  -f, --file FILE      a compose file; several -f files merge in order, as compose merges them
                       (default: compose.yaml, compose.yml, docker-compose.yaml or
                       docker-compose.yml in this directory, with its compose.override.yaml)
  -d, --detach         up: run the services in the background
  -v, --volumes        down: also remove the stack's volumes
  -a, --all            ps: also show the containers that exited
  -q, --quiet          ps: print only the ids; build: print only the image ids; pull: no progress
      --services       ps: print only the services' names
  -f, --follow         logs (after "logs"): keep printing new output until the containers end
  -t, --timestamps     logs: prefix each line with its time
      --tail N         logs: only the last N lines of each service
  -e, --env KEY=VALUE  exec: set an environment variable
  -u, --user USER      exec: run as this user
  -w, --workdir DIR    exec: the working directory inside the container
      --no-cache       build: run every step again
  -h, --help           print this help
`;

const options = { ...helpOption, file: { type: "string", short: "f", multiple: true }, volumes: { type: "boolean", short: "v" }, detach: { type: "boolean", short: "d" } } as const;
/** The options before a subcommand that takes its own (ps, logs, exec). */
const fileOptions = { ...helpOption, file: options.file } as const;

/** The label `Stack.up()` puts on each container: the stack's name. */
const stackLabel = "dev.bento.stack";
const defaultFiles = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/** `Stack.fromCompose`, loaded on the first compose command (the stack layer and the compose loader are large). */
async function loadFromCompose(): Promise<(file: string | string[]) => Stack> {
  const { Stack } = await import("../stack/stack.js");
  return (file) => Stack.fromCompose(file);
}

/**
 * The compose files: those given (merged in order, no override picked, as with compose's -f),
 * else the first default name in `dir` (whose override the loader adds).
 */
export function composeFile(given: readonly string[] | undefined, dir: string): string | string[] {
  if (given !== undefined && given.length > 0) return given.map((f) => resolve(dir, f));
  const found = defaultFiles.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (found === undefined) throw new BentoError("ERR_NOT_FOUND", `no compose file in ${dir} (looked for ${defaultFiles.join(", ")}); give one with -f`);
  return found;
}

/** True when `pid` is a `bento compose up` (its command line names compose, then up). */
function isComposeUp(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const at = argv.indexOf("compose");
    return at >= 0 && argv.slice(at + 1).includes("up");
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function up(file: string | string[], services: string[], io: CliIo): Promise<number> {
  const fromCompose = await loadFromCompose();
  const stack = fromCompose(file);
  const running = await stack.up({
    ...(services.length > 0 ? { services } : {}),
    onProgress: (e) => io.stderr.write(`${e.service}: ${e.status}${e.detail ? ` (${e.detail})` : ""}\n`),
  });
  const width = Math.max(0, ...running.services.map((s) => s.length));
  await Promise.all(
    running.services.map(async (name) => {
      for await (const line of running.service(name).followLogs()) {
        (line.stream === "stdout" ? io.stdout : io.stderr).write(`${name.padEnd(width)} | ${line.text.endsWith("\n") ? line.text : `${line.text}\n`}`);
      }
    }),
  );
  await running.down({ onProgress: (e) => io.stderr.write(`${e.service}: ${e.status}\n`) });
  return 0;
}

async function down(file: string | string[], removeVolumes: boolean, io: CliIo): Promise<number> {
  const fromCompose = await loadFromCompose();
  const name = fromCompose(file).name;
  const ofStack = () => listMachineContainers().filter((c) => c.labels[stackLabel] === name && c.status !== "left-behind");
  const before = ofStack();
  const owners = new Set(before.map((c) => c.ownerPid).filter((p): p is number => p !== undefined && p !== process.pid && isComposeUp(p)));
  for (const pid of owners) {
    io.stderr.write(`bento: asking bento compose up (process ${pid}) to stop\n`);
    process.kill(pid, "SIGTERM");
  }
  const end = Date.now() + 15_000;
  while ([...owners].some(alive) && Date.now() < end) await sleep(50);
  // What the owners took down themselves.
  const left = new Set(listMachineContainers().map((c) => c.id));
  for (const c of before) if (!left.has(c.id)) io.stdout.write(`${c.name}: removed\n`);
  let failed = false;
  for (const c of listMachineContainers().filter((c) => c.labels[stackLabel] === name)) {
    try {
      const removed = await removeMachineContainer(c, { force: true });
      if (removed.tookFromOwner) io.stderr.write(`bento: ${c.name} belonged to process ${removed.ownerPid ?? "?"}, which is still running: killed it and removed its files\n`);
      io.stdout.write(`${c.name}: removed\n`);
    } catch (error) {
      failed = true;
      reportError(io, error);
    }
  }
  if (removeVolumes) {
    for (const v of listVolumeRecords().filter((r) => r.labels[stackLabel] === name)) {
      try {
        await new Volume(v.name).remove();
        io.stdout.write(`volume ${v.name}: removed\n`);
      } catch (error) {
        failed = true;
        reportError(io, error);
      }
    }
  }
  return failed ? 1 : 0;
}

export const composeCommand: Command = {
  name: "compose",
  summary: "Run a compose file's services (up, up -d), reach them (ps, logs, exec), remove them (down)",
  usage,
  async run(args, io) {
    const { head, rest: afterHead } = splitAtFirstPositional(args, fileOptions);
    const first = afterHead[0];
    if (first === "config") return composeConfigCommand.run(args, io);
    if (first === "ps" || first === "logs" || first === "exec" || first === "build" || first === "pull") {
      const global = parseCommandArgs(head, fileOptions, usage).values;
      const subArgs = afterHead.slice(1);
      if (global.help || subArgs.includes("--help") || subArgs.includes("-h")) return printHelp(io, usage);
      if (first === "build") return composeBuild(composeFile(global.file, process.cwd()), subArgs, usage, io);
      if (first === "pull") return composePull(composeFile(global.file, process.cwd()), subArgs, usage, io);
      const name = (await loadFromCompose())(composeFile(global.file, process.cwd())).name;
      if (first === "ps") return composePs(name, subArgs, usage, io);
      if (first === "logs") return composeLogs(name, subArgs, usage, io);
      return composeExec(name, subArgs, usage, io);
    }
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    const [sub, ...rest] = positionals;
    if (sub === undefined) throw new UsageError("compose needs a command: up, down, ps, logs, exec, build, pull or config", usage);
    if (sub === "up") {
      if (values.volumes) throw new UsageError("-v applies to compose down", usage);
      const file = composeFile(values.file, process.cwd());
      if (isKeeper()) {
        const stack = (await loadFromCompose())(file);
        return keep(async (progress) => {
          const running = await stack.up({ detach: true, onProgress: (e) => progress(`${e.service}: ${e.status}${e.detail ? ` (${e.detail})` : ""}`), ...(rest.length > 0 ? { services: rest } : {}) });
          return { release: () => running.down() };
        });
      }
      if (values.detach) {
        // Bad input fails here, before anything starts in the background.
        (await loadFromCompose())(file);
        return startKeeper(["compose", ...args], "bento compose up -d", io);
      }
      return up(file, rest, io);
    }
    if (values.detach) throw new UsageError("-d applies to compose up", usage);
    if (sub === "down") {
      if (rest.length > 0) throw new UsageError(`compose down takes no services (got "${rest[0]}")`, usage);
      return down(composeFile(values.file, process.cwd()), values.volumes ?? false, io);
    }
    throw new UsageError(`unknown compose command "${sub}"; use up, down, ps, logs, exec, build, pull or config`, usage);
  },
};
