/**
 * `bento exec [OPTIONS] CONTAINER COMMAND [ARG...]`: runs a command in a detached container from
 * any process, prints its output as it comes, and exits with its exit code.
 */
import { StringDecoder } from "node:string_decoder";
import { Container } from "../container/container.js";
import type { ExecOptions, ExecTerminal } from "../container/exec.js";
import { SystemCallError } from "../errors.js";
import { helpOption, parseCommandArgs, parseKeyValues, UsageError } from "./args.js";
import { printHelp, reportError, type Command } from "./command.js";
import { readEnvFile } from "./run-flags.js";
import { enterRawMode, followResize, ourConsoleSize, terminalFlags, terminalUsage } from "./terminal-session.js";

const usage = `Usage: bento exec [OPTIONS] CONTAINER COMMAND [ARG...]

Run a command in a running detached container (bento run -d), by name, id or id prefix, with
its namespaces, cgroups and process settings. Its output is printed as it comes (stdout to
stdout, stderr to stderr); bento exec exits with its exit code, or as docker's: 127 when the
command is not found, 126 when it cannot be run. Its standard input is empty unless -i.

Options:
  -e, --env KEY=VALUE   set an environment variable (KEY alone: take it from this environment)
  -u, --user USER       run as this user (name or id, from the container's /etc/passwd)
  -w, --workdir DIR     the working directory inside the container
      --env-file FILE   read KEY=VALUE lines from a file (# comments; KEY alone: from this environment)
      --privileged      every capability of the container's bounding set, no seccomp filter
${terminalUsage(24)}  -h, --help            print this help
`;

const options = {
  ...helpOption,
  env: { type: "string", short: "e", multiple: true },
  user: { type: "string", short: "u" },
  workdir: { type: "string", short: "w" },
  "env-file": { type: "string", multiple: true },
  privileged: { type: "boolean" },
  ...terminalFlags,
} as const;

export const execCommand: Command = {
  name: "exec",
  summary: "Run a command in a detached container",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, usage, true);
    if (values.help) return printHelp(io, usage);
    const [ref, ...argv] = positionals;
    if (ref === undefined || argv.length === 0) throw new UsageError("exec needs a container and a command, e.g. bento exec db sh -c 'echo hi'", usage);
    // One decoder a stream: a character split between two chunks is printed whole.
    const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
    const execOptions: ExecOptions = {
      // The files' first, then -e over them, as docker reads them.
      env: { ...Object.assign({}, ...(values["env-file"] ?? []).map((f) => readEnvFile(f, usage, process.env))), ...parseKeyValues("-e", values.env, usage, process.env) },
      onOutput: (stream, chunk) => (stream === "stdout" ? io.stdout : io.stderr).write(decoders[stream].write(chunk)),
    };
    if (values.user !== undefined) execOptions.user = values.user;
    if (values.workdir !== undefined) execOptions.workdir = values.workdir;
    if (values.privileged) execOptions.privileged = true;
    const container = await Container.attach(ref);
    const stops: (() => void)[] = [];
    if (values.tty) Object.assign(execOptions, { tty: true, onTerminal: (t: ExecTerminal) => stops.push(followResize(t.resize)) }, ourConsoleSize() ? { consoleSize: ourConsoleSize() } : {});
    if (values.interactive) execOptions.stdin = process.stdin;
    const restore = values.tty && values.interactive ? enterRawMode() : () => undefined;
    try {
      return (await container.exec(argv, execOptions)).exitCode;
    } catch (error) {
      if (!(error instanceof SystemCallError && error.syscall === "execve")) throw error;
      reportError(io, error);
      return error.code === "ENOENT" ? 127 : 126;
    } finally {
      for (const stop of stops) stop();
      restore();
    }
  },
};
