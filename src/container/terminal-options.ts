/**
 * The terminal options of a container or an exec (`tty`, `consoleSize`, `interactive`), checked
 * and given their defaults.
 */
import { InvalidOptionError } from "../errors.js";

/** A terminal's window size. */
export interface ConsoleSize {
  /** Lines (1 to 65535). */
  rows: number;
  /** Characters a line (1 to 65535). */
  columns: number;
}

/** A container's terminal and standard input (part of {@link ContainerOptions}). */
export interface TerminalOptions {
  /**
   * Gives the command a pseudo-terminal as its standard input, output and error, as `docker run
   * -t`: a terminal of the container's own devpts, its controlling terminal, `TERM=xterm` unless
   * `env` sets TERM. Its output is one stream: `running.terminalOutput` as it comes, and the logs
   * (as stdout). `running.resize(rows, columns)` changes its size; what `running.stdin` writes
   * (with `interactive`) is typed into it, Ctrl-C (0x03) included.
   *
   * @example
   * ```ts
   * const running = await new Container(image, { command: ["sh"], tty: true, interactive: true }).start();
   * running.terminalOutput?.pipe(process.stdout);
   * running.stdin?.write("stty size; exit 3\r");
   * ```
   */
  tty?: boolean;
  /** The terminal's size with `tty` (default 24 rows and 80 columns), as docker's ConsoleSize. */
  consoleSize?: ConsoleSize;
  /**
   * Keeps the command's standard input open, as `docker run -i`: `running.stdin` writes to it
   * (to its terminal with `tty`); ending that stream is end-of-file. Default false: it reads
   * /dev/null. A detached container's input ends with the process that started it.
   */
  interactive?: boolean;
}

/** docker's default when the caller has no terminal to take the size from. */
const defaultConsoleSize: ConsoleSize = { rows: 24, columns: 80 };

function checkDimension(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} must be a whole number from 1 to 65535`);
  }
  return value;
}

/** A checked window size; `option` names it in errors (such as "consoleSize"). */
export function checkConsoleSize(option: string, size: unknown): ConsoleSize {
  if (typeof size !== "object" || size === null) throw new InvalidOptionError(option, "must be { rows, columns }, e.g. { rows: 24, columns: 80 }");
  const { rows, columns } = size as Partial<ConsoleSize>;
  return { rows: checkDimension(`${option}.rows`, rows), columns: checkDimension(`${option}.columns`, columns) };
}

/** The terminal to allocate (its initial size), or undefined without `tty`. */
export function terminalOption(tty: unknown, consoleSize: unknown): ConsoleSize | undefined {
  if (tty !== undefined && typeof tty !== "boolean") throw new InvalidOptionError("tty", `${JSON.stringify(tty)} must be true or false`);
  if (consoleSize !== undefined && tty !== true) throw new InvalidOptionError("consoleSize", "sizes a terminal: give it with tty: true, or leave it out");
  if (tty !== true) return undefined;
  return consoleSize === undefined ? { ...defaultConsoleSize } : checkConsoleSize("consoleSize", consoleSize);
}

/** `interactive` checked: the process's standard input stays open for the caller to write. */
export function interactiveOption(interactive: unknown): boolean {
  if (interactive !== undefined && typeof interactive !== "boolean") throw new InvalidOptionError("interactive", `${JSON.stringify(interactive)} must be true or false`);
  return interactive === true;
}

/** `env` with TERM=xterm added when a terminal is given and TERM is not set (as docker does). */
export function withTerm(env: string[], tty: ConsoleSize | undefined): string[] {
  return tty === undefined || env.some((e) => e.startsWith("TERM=")) ? env : [...env, "TERM=xterm"];
}
