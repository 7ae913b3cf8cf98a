/**
 * `bento attach CONTAINER`: this terminal on a detached container's terminal (bento run -dit),
 * from any process, until its command ends; exits with its exit code.
 */
import { Container } from "../container/container.js";
import { helpOption, parseCommandArgs, UsageError } from "./args.js";
import { printHelp, type Command } from "./command.js";
import { DEFAULT_DETACH_KEYS, forwardInputUntilDetach, parseDetachKeys } from "./detach-keys.js";
import { copyOutput, enterRawMode, followResize, ourConsoleSize } from "./terminal-session.js";

const usage = `Usage: bento attach [OPTIONS] CONTAINER

Attach this terminal to a running detached container's terminal (started with bento run -dit),
by name, id or id prefix: what you type goes to it (Ctrl-C too), its output from now on comes
here, its size follows this terminal's. bento attach exits with the container's exit code
once its command ended, or with 0 when the detach keys are typed, leaving it running.

Options:
      --detach-keys KEYS   the keys that detach, comma-separated (default ${DEFAULT_DETACH_KEYS})
  -h, --help               print this help
`;

const options = { ...helpOption, "detach-keys": { type: "string" } } as const;

export const attachCommand: Command = {
  name: "attach",
  summary: "Attach this terminal to a detached container's terminal",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage);
    if (values.help) return printHelp(io, usage);
    const [ref] = positionals;
    if (ref === undefined || positionals.length > 1) throw new UsageError("attach needs one container, e.g. bento attach shell", usage);
    const keys = parseDetachKeys(values["detach-keys"] ?? DEFAULT_DETACH_KEYS, usage);
    const container = await Container.attach(ref);
    const terminal = await container.attachTerminal();
    const size = ourConsoleSize();
    if (size) terminal.resize(size.rows, size.columns);
    const restore = enterRawMode();
    const stops = [followResize(terminal.resize)];
    const detached = new Promise<"detached">((resolve) => stops.push(forwardInputUntilDetach(terminal.input, keys, () => resolve("detached"))));
    let outcome: "detached" | undefined;
    try {
      outcome = await Promise.race([copyOutput(terminal.output, io).then(() => undefined), detached]);
    } finally {
      for (const stop of stops) stop();
      restore();
      terminal.close();
    }
    if (outcome === "detached") {
      io.stderr.write("\r\nread escape sequence\n");
      return 0;
    }
    return (await container.wait()).exitCode;
  },
};
