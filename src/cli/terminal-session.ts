/**
 * `-i` and `-t` of `bento run` and `bento exec`: this process's terminal in raw mode while a
 * container's terminal is in use (restored on every way out), keystrokes forwarded, its output
 * copied back, and its window resized with ours (SIGWINCH).
 */
import { StringDecoder } from "node:string_decoder";
import type { Readable, Writable } from "node:stream";
import type { RunningContainer } from "../container/running-container.js";
import type { ConsoleSize } from "../container/terminal-options.js";
import type { CliIo } from "./command.js";

/** The help lines of -i and -t, shared by run and exec, their descriptions at column `column`. */
export function terminalUsage(column: number): string {
  const line = (flags: string, text: string) => `  ${flags.padEnd(column - 2)}${text}\n`;
  return line("-i, --interactive", "keep standard input open and forward it to the command") + line("-t, --tty", "give the command a pseudo-terminal (with -i: this terminal, in raw mode)");
}

/** The flags, for parseCommandArgs. */
export const terminalFlags = {
  interactive: { type: "boolean", short: "i" },
  tty: { type: "boolean", short: "t" },
} as const;

/** This terminal's window size, or undefined when standard output is not a terminal. */
export function ourConsoleSize(): ConsoleSize | undefined {
  const out = process.stdout;
  return out.isTTY && out.rows > 0 && out.columns > 0 ? { rows: out.rows, columns: out.columns } : undefined;
}

/**
 * Puts standard input in raw mode when it is a terminal: every key (Ctrl-C too) is a byte for the
 * container. Returns what restores it; it also runs when the process exits another way.
 */
export function enterRawMode(): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => undefined;
  stdin.setRawMode(true);
  const restore = () => {
    process.off("exit", restore);
    if (stdin.isRaw) stdin.setRawMode(false);
  };
  process.on("exit", restore);
  return restore;
}

/** Copies our standard input to `input` and ends it at our end-of-file; returns what stops copying. */
export function forwardInput(input: Writable): () => void {
  const stdin = process.stdin;
  stdin.pipe(input);
  return () => {
    stdin.unpipe(input);
    stdin.pause();
  };
}

/** Resizes the container's terminal whenever ours changes (Node turns SIGWINCH into "resize"). */
export function followResize(resize: (rows: number, columns: number) => void): () => void {
  const onResize = () => {
    const size = ourConsoleSize();
    try {
      if (size) resize(size.rows, size.columns);
    } catch {
      // The command just ended: its terminal is gone, nothing to resize.
    }
  };
  process.stdout.on("resize", onResize);
  return () => process.stdout.off("resize", onResize);
}

/** Writes terminal output as it comes; a character split between chunks is written whole. */
export function terminalWriter(io: CliIo): (chunk: Buffer) => void {
  const decoder = new StringDecoder("utf8");
  return (chunk) => io.stdout.write(decoder.write(chunk));
}

/** Copies `output` to our standard output; resolves once it ended. */
export function copyOutput(output: Readable, io: CliIo): Promise<void> {
  const write = terminalWriter(io);
  return new Promise((resolve) => {
    output.on("data", write);
    output.once("end", resolve);
    output.once("close", resolve);
  });
}

/**
 * Runs a started container in the foreground with -i and/or -t: input forwarded, output shown
 * (the terminal's, else the log's two streams), our terminal restored however it ends.
 * Resolves with the container's exit code.
 */
export async function runInForeground(running: RunningContainer, flags: { tty: boolean; interactive: boolean }, io: CliIo): Promise<number> {
  const restore = flags.tty && flags.interactive ? enterRawMode() : () => undefined;
  const stops: (() => void)[] = [];
  try {
    if (flags.interactive && running.stdin) stops.push(forwardInput(running.stdin));
    let shown: Promise<void>;
    if (flags.tty && running.terminalOutput) {
      stops.push(followResize((rows, columns) => running.resize(rows, columns)));
      shown = copyOutput(running.terminalOutput, io);
    } else {
      shown = (async () => {
        for await (const line of running.followLogs()) (line.stream === "stdout" ? io.stdout : io.stderr).write(line.text);
      })();
    }
    const exit = await running.wait();
    await shown;
    return exit.exitCode;
  } finally {
    for (const stop of stops) stop();
    restore();
  }
}
