/**
 * `bento attach CONTAINER`: this terminal on a detached container's terminal (bento run -dit),
 * from any process, until its command ends; exits with its exit code.
 */
import { Container } from "../container/container.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, type Command } from "./command.js";
import { copyOutput, enterRawMode, followResize, forwardInput, ourConsoleSize } from "./terminal-session.js";

const usage = `Usage: bento attach CONTAINER

Attach this terminal to a running detached container's terminal (started with bento run -dit),
by name, id or id prefix: what you type goes to it (Ctrl-C too), its output from now on comes
here, its size follows this terminal's. bento attach exits with the container's exit code
once its command ended.

Options:
  -h, --help   print this help
`;

export const attachCommand: Command = {
  name: "attach",
  summary: "Attach this terminal to a detached container's terminal",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, helpOption, usage);
    if (values.help) return printHelp(io, usage);
    const [ref] = positionals;
    if (ref === undefined || positionals.length > 1) throw new UsageError("attach needs one container, e.g. bento attach shell", usage);
    const container = await Container.attach(ref);
    const terminal = await container.attachTerminal();
    const size = ourConsoleSize();
    if (size) terminal.resize(size.rows, size.columns);
    const restore = enterRawMode();
    const stops = [forwardInput(terminal.input), followResize(terminal.resize)];
    try {
      await copyOutput(terminal.output, io);
    } finally {
      for (const stop of stops) stop();
      restore();
      terminal.close();
    }
    return (await container.wait()).exitCode;
  },
};
