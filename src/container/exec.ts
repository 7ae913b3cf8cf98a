/**
 * Exec into a running container: bento-shim's exec role joins the container's cgroups and all of
 * its namespaces through a pidfd of its init, forks, and runs the command with the container's
 * process settings (user, capabilities, no_new_privs) or the overrides.
 */
import type { Writable } from "node:stream";
import { BentoError, InvalidOptionError } from "../errors.js";
import { HelperProcess, type HelperEvent } from "../native/helper-process.js";
import { compileExecPlan, type ProcessSpec } from "../runtime/container-plan.js";
import { privilegedCapabilities } from "../runtime/capabilities.js";
import { isRootless, onlyRootMapped } from "../runtime/user-namespace.js";
import { resolveUser } from "../runtime/user.js";
import { decodeWaitStatus, systemCallErrorOf } from "../runtime/wait-status.js";
import { checkConsoleSize, terminalOption, withTerm, type ConsoleSize } from "./terminal-options.js";

/** The result of an exec. */
export interface ExecResult {
  /** The command's exit code; 128 + n when signal n killed it (137 after an abort). */
  exitCode: number;
  /** Everything it wrote to standard output, decoded as UTF-8. */
  stdout: string;
  /** Everything it wrote to standard error, decoded as UTF-8. */
  stderr: string;
}

/** Options of an exec. */
export interface ExecOptions {
  /** Added to the container's environment. */
  env?: Record<string, string>;
  /** Working directory (default: the container's). */
  workdir?: string;
  /** User (default: the container's). */
  user?: string;
  /** Every capability of the bounding set and no seccomp filter, as `docker exec --privileged`. */
  privileged?: boolean;
  /** Aborting it kills the command (SIGKILL); the exec then resolves with exit code 137. */
  signal?: AbortSignal;
  /**
   * The command's standard input: text (UTF-8), bytes, or a stream (a `Readable`, any async
   * iterable of chunks), closed at its end. Without it the command reads end-of-file.
   */
  stdin?: string | Uint8Array | AsyncIterable<Uint8Array | string>;
  /** Receives the command's output as it is written, chunk by chunk (it is also collected in the result). */
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
  /**
   * Runs the command on a new terminal (a pty of the container's devpts), as `docker exec -t`:
   * its output is one stream, reported as stdout; `stdin` is typed into it; TERM=xterm unless set.
   */
  tty?: boolean;
  /** The terminal's size with `tty` (default 24 rows and 80 columns). */
  consoleSize?: ConsoleSize;
  /** With `tty`: called once the command runs, with the means to resize its terminal. */
  onTerminal?: (terminal: ExecTerminal) => void;
}

/** The terminal of a running exec (`tty`). */
export interface ExecTerminal {
  /** Sets its window size; the command's foreground process gets SIGWINCH. */
  resize(rows: number, columns: number): void;
}

/** What an exec needs to know about its container. */
export interface ExecTarget {
  name: string;
  initPid: number;
  network: "none" | "host";
  procsFiles: string[];
  /** The container's process, whose settings an exec inherits. */
  process: ProcessSpec;
  /** Where /etc/passwd is looked up for `user` (upper dir first, then the image's layers). */
  layers: string[];
  /** Clone flags of the host namespaces the container shares (pid/ipc "host"), which an exec is already in. */
  hostNamespaces?: number;
}

/** Raw output of an exec. */
export interface RawExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** `KEY=value` list `base` with `extra` added or replaced. */
export function envList(base: string[], extra: Record<string, string>): string[] {
  const map = new Map<string, string>();
  for (const kv of base) {
    const i = kv.indexOf("=");
    map.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? "" : kv.slice(i + 1));
  }
  for (const [k, v] of Object.entries(extra)) map.set(k, v);
  return [...map].map(([k, v]) => `${k}=${v}`);
}

/** Writes `stdin` to the command's input and closes it; a command that stops reading ends it. */
async function feedInput(input: Writable, stdin: NonNullable<ExecOptions["stdin"]>): Promise<void> {
  input.on("error", () => undefined); // a command that does not read its input
  if (typeof stdin === "string" || stdin instanceof Uint8Array) {
    input.end(stdin);
    return;
  }
  try {
    for await (const chunk of stdin) {
      if (input.destroyed) break;
      if (!input.write(chunk))
        await new Promise<void>((resolve) => {
          input.once("drain", resolve);
          input.once("close", resolve);
        });
    }
  } finally {
    input.end();
  }
}

/** Runs `argv` in the container to completion; `stdin` is written to its standard input. */
export async function runExec(target: ExecTarget, argv: string[], options: ExecOptions = {}): Promise<RawExecResult> {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
    throw new BentoError("ERR_INVALID_OPTION", 'exec: argv must be a non-empty array of strings, e.g. ["cat", "/etc/hostname"]');
  }
  const { stdin, onOutput } = options;
  const streamed = stdin !== undefined && typeof stdin !== "string" && !(stdin instanceof Uint8Array);
  if (streamed && typeof (stdin as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== "function") {
    throw new BentoError("ERR_INVALID_OPTION", "exec: stdin must be a string, a Buffer/Uint8Array, or a stream (a Readable or another async iterable of chunks)");
  }
  if (onOutput !== undefined && typeof onOutput !== "function") throw new BentoError("ERR_INVALID_OPTION", "exec: onOutput must be a function (stream, chunk) => void");
  const tty = terminalOption(options.tty, options.consoleSize);
  if (options.onTerminal !== undefined && (tty === undefined || typeof options.onTerminal !== "function")) throw new InvalidOptionError("onTerminal", "must be a function (terminal) => void, with tty: true");
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (typeof v !== "string" || v.includes("\0") || k.includes("\0") || k.includes("=") || k === "") {
      throw new InvalidOptionError(`env.${k}`, 'exec: a variable needs a non-empty name without "=" and a string value, neither with a NUL character');
    }
  }
  if (argv.some((a) => a.includes("\0"))) throw new InvalidOptionError("argv", "exec: an argument contains a NUL character, which execve(2) cannot pass; remove it");
  const base = target.process;
  const user = options.user === undefined ? { uid: base.uid, gid: base.gid, groups: base.groups } : resolveUser(options.user, target.layers);
  const payload: ProcessSpec = { ...base, ...user, argv, env: withTerm(envList(base.env, options.env ?? {}), tty), cwd: options.workdir ?? base.cwd };
  if (onlyRootMapped("exec user", user)) {
    payload.setGroups = false;
    payload.groups = [];
  }
  if (options.privileged === true) Object.assign(payload, { capabilities: privilegedCapabilities(), seccomp: "" });
  const plan = compileExecPlan(target.initPid, target.network, target.procsFiles, payload, isRootless(), target.hostNamespaces ?? 0, tty);
  // With a terminal the helper copies between its stdio and the terminal: one output stream.
  const helper = HelperProcess.start({ role: "exec", plan: plan.records, stdio: [stdin !== undefined ? "socket" : "null", "socket", tty ? "null" : "socket"] });
  // Not awaited: the command may end without reading all of it (an endless stream included).
  if (stdin !== undefined) feedInput(helper.stdio[0]!, stdin).catch(() => undefined);
  const collect = (i: 1 | 2) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const s = helper.stdio[i];
      if (!s) return resolve(Buffer.alloc(0));
      const stream = i === 1 ? "stdout" : "stderr";
      s.on("data", (c: Buffer) => {
        chunks.push(c);
        onOutput?.(stream, c);
      });
      s.on("error", () => resolve(Buffer.concat(chunks)));
      s.on("end", () => resolve(Buffer.concat(chunks)));
    });
  const [stdout, stderr] = [collect(1), collect(2)];
  const abort = () => helper.signal(9);
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  let failure: HelperEvent | undefined;
  helper.on("event", (e: HelperEvent) => {
    if (e.event === "error" || e.event === "fatal") failure ??= e;
    else if (e.event === "ready" && tty !== undefined)
      options.onTerminal?.({
        resize: (rows, columns) => {
          const size = checkConsoleSize("resize", { rows, columns });
          helper.send(`resize ${size.rows} ${size.columns}\n`);
        },
      });
  });
  const end = await helper.waitFor((e) => e.event === "exit");
  options.signal?.removeEventListener("abort", abort);
  const [out, err] = await Promise.all([stdout, stderr]);
  await helper.exited();
  helper.close();
  if (failure) {
    if (failure.event === "fatal") throw new BentoError("ERR_RUNTIME", `exec in ${target.name}: ${failure.message}`);
    throw systemCallErrorOf(`exec in ${target.name}`, failure, (i) => plan.describe(i));
  }
  if (!end) throw new BentoError("ERR_RUNTIME", `exec in ${target.name}: the helper ended without an exit status (was the container stopped?)`);
  return { exitCode: decodeWaitStatus(end.status ?? 0, false).exitCode, stdout: out, stderr: err };
}
