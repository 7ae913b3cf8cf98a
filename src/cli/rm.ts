/**
 * `bento rm [-f] <name|id>...`: removes containers, whichever process started them.
 */
import { BentoError } from "../errors.js";
import { findMachineContainer, listMachineContainers, removeMachineContainer, type MachineContainer } from "../runtime/machine-containers.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, reportError, type Command } from "./command.js";

const usage = `Usage: bento rm [OPTIONS] CONTAINER...

Remove containers (by name, id or id prefix) and their files.

A container belongs to the process that started it. One left behind by a process that died is
removed at once. One whose process is alive is refused, unless -f: then its processes are
killed (through its cgroups) and its files deleted under that process, which sees it exit.
A detached container (bento run -d) is removed once it exited (bento stop); a running one is
refused unless -f, which kills it first.

Options:
  -f, --force   also remove running containers, killing what runs in them
  -h, --help    print this help
`;

const options = { ...helpOption, force: { type: "boolean", short: "f" } } as const;

export const rmCommand: Command = {
  name: "rm",
  summary: "Remove containers",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    if (positionals.length === 0) throw new UsageError("rm needs at least one container name or id", usage);
    const containers = listMachineContainers();
    let failed = false;
    for (const ref of positionals) {
      let c: MachineContainer | undefined;
      try {
        c = findMachineContainer(ref, containers);
        const removed = await removeMachineContainer(c, { force: values.force ?? false });
        if (removed.tookFromOwner) {
          io.stderr.write(`bento: ${removed.name} belonged to process ${removed.ownerPid ?? "?"}, which is still running: ${removed.killed ? "killed its processes and " : ""}removed its files; that process sees its container exit\n`);
        }
        io.stdout.write(`${ref}\n`);
      } catch (error) {
        failed = true;
        if (c !== undefined && error instanceof BentoError && error.code === "ERR_CONTAINER_RUNNING") {
          io.stderr.write(`bento: container ${c.name} is running; stop it first (bento stop ${c.name}), or remove it anyway (killing its processes) with -f\n`);
        } else if (c !== undefined && error instanceof BentoError && error.code === "ERR_CONTAINER_OWNED") {
          io.stderr.write(`bento: container ${c.name} belongs to process ${c.ownerPid ?? "?"}, which is still running; stop it there, or remove it anyway (killing its processes) with -f\n`);
        } else {
          reportError(io, error);
        }
      }
    }
    return failed ? 1 : 0;
  },
};
