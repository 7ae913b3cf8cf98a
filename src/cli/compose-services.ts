/**
 * `bento compose ps`, `logs` and `exec`: the containers of a stack that `bento compose up`
 * (with -d, or in the foreground in another terminal) runs, reached from any process.
 */
import { readContainerRecord } from "../container/container-record.js";
import { formatLines, readLogLines } from "../runtime/logs.js";
import { listMachineContainers, type MachineContainer } from "../runtime/machine-containers.js";
import { parseCommandArgs, parseTail, UsageError, type OptionsConfig } from "./args.js";
import type { CliIo } from "./command.js";
import { withContainerExitCodes } from "./container-exit-codes.js";
import { execCommand } from "./exec.js";
import { follow } from "./logs.js";
import { statusText } from "./ps.js";
import { formatTable } from "./table.js";

/** The labels `Stack.up()` puts on each container: the stack's name, and the service's. */
const stackLabel = "dev.bento.stack";
const serviceLabel = "dev.bento.stack.service";

const psOptions = { all: { type: "boolean", short: "a" }, quiet: { type: "boolean", short: "q" }, services: { type: "boolean" } } as const satisfies OptionsConfig;
const logsOptions = { follow: { type: "boolean", short: "f" }, timestamps: { type: "boolean", short: "t" }, tail: { type: "string" } } as const satisfies OptionsConfig;
const execOptions = { env: { type: "string", short: "e", multiple: true }, user: { type: "string", short: "u" }, workdir: { type: "string", short: "w" } } as const satisfies OptionsConfig;

/** The stack's containers, in the order of their services' names. */
function containersOf(stack: string): MachineContainer[] {
  return listMachineContainers()
    .filter((c) => c.labels[stackLabel] === stack && c.status !== "left-behind")
    .sort((a, b) => (a.labels[serviceLabel] ?? "").localeCompare(b.labels[serviceLabel] ?? ""));
}

/** The service's container, or a UsageError naming the services that run. */
function containerOfService(stack: string, service: string, usage: string): MachineContainer {
  const all = containersOf(stack);
  const found = all.find((c) => c.labels[serviceLabel] === service);
  if (found === undefined) {
    const running = all.map((c) => c.labels[serviceLabel]).join(", ");
    throw new UsageError(`service "${service}" of stack ${stack} is not running${running ? ` (running: ${running})` : " (nothing runs: start it with bento compose up -d)"}`, usage);
  }
  return found;
}

function portsText(c: MachineContainer): string {
  const ports = readContainerRecord(c.containerDir).ports ?? [];
  return ports.map((p) => `${p.hostIp ?? "127.0.0.1"}:${p.hostPort}->${p.container}/${p.protocol}`).join(", ");
}

/** `compose ps [-a] [-q] [--services]`. */
export function composePs(stack: string, args: string[], usage: string, io: CliIo): number {
  const { values, positionals } = parseCommandArgs(args, psOptions, usage);
  const containers = containersOf(stack).filter((c) => values.all || c.status === "running" || c.status === "stopped");
  const wanted = positionals.length === 0 ? containers : containers.filter((c) => positionals.includes(c.labels[serviceLabel] ?? ""));
  if (values.services) io.stdout.write(wanted.map((c) => `${c.labels[serviceLabel]}\n`).join(""));
  else if (values.quiet) io.stdout.write(wanted.map((c) => `${c.id}\n`).join(""));
  else
    io.stdout.write(
      formatTable(
        ["NAME", "SERVICE", "STATUS", "PORTS"],
        wanted.map((c) => [c.name, c.labels[serviceLabel] ?? "", statusText(c.status), portsText(c)]),
      ),
    );
  return 0;
}

/** Writes through `io` with each line prefixed by `prefix`. */
function prefixed(io: CliIo, prefix: string): CliIo {
  const add = (text: string) => text.replace(/^(?=.)/gm, prefix);
  return { stdout: { write: (chunk) => io.stdout.write(add(chunk)) }, stderr: { write: (chunk) => io.stderr.write(add(chunk)) } };
}

/** `compose logs [-f] [-t] [--tail N] [SERVICE...]`: each line prefixed with its service. */
export async function composeLogs(stack: string, args: string[], usage: string, io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, logsOptions, usage);
  const tail = parseTail(values.tail, usage);
  const timestamps = values.timestamps ?? false;
  const containers = positionals.length === 0 ? containersOf(stack) : positionals.map((s) => containerOfService(stack, s, usage));
  const width = Math.max(0, ...containers.map((c) => (c.labels[serviceLabel] ?? "").length));
  await Promise.all(
    containers.map(async (c) => {
      const out = prefixed(io, `${(c.labels[serviceLabel] ?? "").padEnd(width)} | `);
      const all = await readLogLines(c.logPath);
      for (const line of tail === undefined ? all : all.slice(Math.max(0, all.length - tail))) {
        (line.stream === "stdout" ? out.stdout : out.stderr).write(formatLines([line], timestamps));
      }
      if (values.follow) await follow(c, all.length, timestamps, out);
    }),
  );
  return 0;
}

/** `compose exec [OPTIONS] SERVICE COMMAND...`: bento exec in the service's container. */
export async function composeExec(stack: string, args: string[], usage: string, io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, execOptions, usage, true);
  const [service, ...command] = positionals;
  if (service === undefined || command.length === 0) throw new UsageError("compose exec needs a service and a command, e.g. bento compose exec db sh -c 'echo hi'", usage);
  const container = containerOfService(stack, service, usage);
  const flags = [...(values.env ?? []).flatMap((e) => ["-e", e]), ...(values.user === undefined ? [] : ["-u", values.user]), ...(values.workdir === undefined ? [] : ["-w", values.workdir])];
  return withContainerExitCodes(execCommand).run([...flags, container.name, ...command], io);
}
