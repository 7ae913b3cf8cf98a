/**
 * Reading a container's log file. bento-shim writes one record per line of output:
 * "<unix ns> <o|e|O|E> <text>", upper case where the text did not end in a newline.
 */
import { open, readFile } from "node:fs/promises";
import { watch } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** One line a container wrote. */
export interface LogLine {
  /** The stream the container wrote it to. */
  stream: "stdout" | "stderr";
  /** The text, with its newline when it had one. */
  text: string;
  /** When bento-shim read it, in ISO 8601 with nanoseconds (as `docker logs -t`). */
  timestamp: string;
}

/** Which lines `logs()`, `followLogs()` and the other log readers keep. */
export interface LogOptions {
  /** "stdout", "stderr" or "both" (default). */
  stream?: "stdout" | "stderr" | "both";
  /** Prefix each line with its timestamp, as `docker logs -t`. */
  timestamps?: boolean;
  /** Only the last n lines. */
  tail?: number;
}

function isoWithNanos(ns: string): string {
  const padded = ns.padStart(19, "0");
  const seconds = Number(padded.slice(0, -9));
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${padded.slice(-9)}Z`;
}

/** Parses complete records; returns the lines and the unparsed rest (an incomplete record). */
export function parseLogRecords(text: string): { lines: LogLine[]; rest: string } {
  const lines: LogLine[] = [];
  let start = 0,
    nl: number;
  while ((nl = text.indexOf("\n", start)) >= 0) {
    const record = text.slice(start, nl);
    start = nl + 1;
    const space1 = record.indexOf(" ");
    const tag = record[space1 + 1];
    if (space1 < 0 || tag === undefined) continue;
    const body = record.slice(space1 + 3);
    lines.push({
      stream: tag === "o" || tag === "O" ? "stdout" : "stderr",
      text: tag === "o" || tag === "e" ? `${body}\n` : body,
      timestamp: isoWithNanos(record.slice(0, space1)),
    });
  }
  return { lines, rest: text.slice(start) };
}

function keep(lines: LogLine[], options: LogOptions): LogLine[] {
  const stream = options.stream ?? "both";
  const kept = stream === "both" ? lines : lines.filter((l) => l.stream === stream);
  return options.tail === undefined ? kept : kept.slice(Math.max(0, kept.length - options.tail));
}

/** Formats lines as `docker logs` prints them. */
export function formatLines(lines: LogLine[], timestamps = false): string {
  return lines.map((l) => (timestamps ? `${l.timestamp} ${l.text}` : l.text)).join("");
}

/** All lines of a log file so far. */
export async function readLogLines(file: string, options: LogOptions = {}): Promise<LogLine[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return keep(parseLogRecords(text).lines, options);
}

/**
 * Follows a log file: yields lines as they are written until `done` resolves and the file has
 * been read to its end.
 */
export async function* followLogLines(file: string, done: Promise<unknown>, options: LogOptions = {}): AsyncGenerator<LogLine> {
  const stream = options.stream ?? "both";
  let offset = 0;
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const handle = await open(file, "r");
  let wake: (() => void) | undefined;
  const watcher = watch(file, () => wake?.());
  try {
    let pending = "";
    const decoder = new StringDecoder("utf8");
    for (;;) {
      const wasFinished = finished;
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.alloc(65536), position: offset });
      if (bytesRead > 0) {
        offset += bytesRead;
        const { lines, rest } = parseLogRecords(pending + decoder.write(buffer.subarray(0, bytesRead)));
        pending = rest;
        for (const line of lines) if (stream === "both" || line.stream === stream) yield line;
        continue;
      }
      if (wasFinished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        const timer = setTimeout(resolve, 100);
        void done.finally(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  } finally {
    watcher.close();
    await handle.close();
  }
}
