/**
 * The progress display of `bento build`, `pull` and `push`, fed by the API's `onProgress` events.
 * `tty`: a block of lines redrawn in place (cursor up, clear line), one per build step or blob,
 * with CACHED and durations for steps and bytes and a bar for layers, as docker's; `plain`: one
 * line per change, for pipes and logs; `quiet`: nothing. `auto` is tty when the stream is a
 * terminal.
 */
import type { BuildProgressEvent } from "../image/build-progress.js";
import type { TransferProgress } from "../registry/progress.js";
import { UsageError } from "./args.js";
import { progressLine } from "./build-progress-line.js";
import { formatBytes } from "./table.js";

/** The `--progress` values. */
export type ProgressMode = "auto" | "plain" | "tty" | "quiet";

/** Where the display writes: a terminal has `isTTY` and `columns`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Receives progress events and draws them. */
export interface ProgressDisplay {
  /** A pull or push event. */
  transfer(event: TransferProgress): void;
  /** A build event. */
  build(event: BuildProgressEvent): void;
  /** Draws the last frame; the display writes nothing after. */
  end(): void;
}

/** Reads `--progress`: auto (the default), plain, tty or quiet. */
export function parseProgressMode(value: string | undefined, usage: string): ProgressMode {
  const mode = value ?? "auto";
  if (mode === "auto" || mode === "plain" || mode === "tty" || mode === "quiet") return mode;
  throw new UsageError(`--progress "${mode}": expected auto, plain, tty or quiet`, usage);
}

/**
 * The display for `mode` on `stream`; `auto` draws in place when the stream is a terminal.
 *
 * @example
 * ```ts
 * const display = progressDisplay("auto", process.stderr);
 * await store.pull("alpine:3.20", { onProgress: (e) => display.transfer(e) });
 * display.end();
 * ```
 */
export function progressDisplay(mode: ProgressMode, stream: ProgressStream): ProgressDisplay {
  if (mode === "quiet") return { transfer() {}, build() {}, end() {} };
  if (mode === "tty" || (mode === "auto" && stream.isTTY === true)) return new TtyDisplay(stream);
  return new PlainDisplay(stream);
}

const transferWords: Record<TransferProgress["status"], string> = {
  exists: "Already exists",
  downloading: "Downloading",
  downloaded: "Download complete",
  uploading: "Pushing",
  uploaded: "Pushed",
  mounted: "Mounted from another repository",
};

function blobName(event: TransferProgress): string {
  return event.digest.replace(/^sha256:/, "").slice(0, 12);
}

/** A plain line for a transfer event; byte counts only at the first and last event of a blob. */
function transferLine(event: TransferProgress): string {
  const words = event.status === "exists" && event.kind !== "layer" ? "Already exists" : transferWords[event.status];
  const bytes = event.status === "downloading" || event.status === "uploading" ? ` ${formatBytes(event.bytes)}/${formatBytes(event.totalBytes)}` : "";
  return `${blobName(event)}: ${words} (${event.kind})${bytes}`;
}

class PlainDisplay implements ProgressDisplay {
  readonly #stream: ProgressStream;
  readonly #started = new Set<string>();

  constructor(stream: ProgressStream) {
    this.#stream = stream;
  }

  transfer(event: TransferProgress): void {
    const moving = event.status === "downloading" || event.status === "uploading";
    // One line when bytes start moving, none for each further MiB: a log file is not a terminal.
    if (moving && this.#started.has(event.digest)) return;
    if (moving) this.#started.add(event.digest);
    this.#stream.write(`${transferLine(event)}\n`);
  }

  build(event: BuildProgressEvent): void {
    const line = progressLine(event);
    if (line !== undefined) this.#stream.write(`${line}\n`);
  }

  end(): void {}
}

/** A bar of `width` cells, `[=====>    ]`, as docker draws a layer's bytes. */
export function progressBar(bytes: number, totalBytes: number, width = 30): string {
  const filled = totalBytes > 0 ? Math.min(width, Math.floor((bytes / totalBytes) * width)) : 0;
  if (filled >= width) return `[${"=".repeat(width)}]`;
  return `[${"=".repeat(filled)}>${" ".repeat(width - filled - 1)}]`;
}

interface Row {
  key: string;
  text: string;
}

/** Redraws a block of rows in place: cursor up over the last frame, each row cleared and rewritten. */
class TtyDisplay implements ProgressDisplay {
  readonly #stream: ProgressStream;
  readonly #rows: Row[] = [];
  #drawn = 0;
  #header: string | undefined;
  #ended = false;

  constructor(stream: ProgressStream) {
    this.#stream = stream;
  }

  #set(key: string, text: string): void {
    const row = this.#rows.find((r) => r.key === key);
    if (row) row.text = text;
    else this.#rows.push({ key, text });
    this.#draw();
  }

  transfer(event: TransferProgress): void {
    this.#header = `${event.status === "uploading" || event.status === "uploaded" || event.status === "mounted" ? "Pushing" : "Pulling"} ${event.reference}`;
    const moving = event.status === "downloading" || event.status === "uploading";
    const bytes = moving ? ` ${progressBar(event.bytes, event.totalBytes)} ${formatBytes(event.bytes)}/${formatBytes(event.totalBytes)}` : "";
    this.#set(`blob ${event.digest}`, `${blobName(event)}: ${transferWords[event.status]}${bytes}`);
  }

  build(event: BuildProgressEvent): void {
    switch (event.type) {
      case "step": {
        this.#header = `[+] Building ${event.step}/${event.total}`;
        const head = `=> [${event.stage} ${event.step}/${event.total}] ${event.instruction}`;
        this.#set(`step ${event.step}`, event.cached ? `${head}  CACHED` : `${head}  ...`);
        return;
      }
      case "step-done":
        this.#set(`step ${event.step}`, `=> [${event.stage} ${event.step}/${event.total}] ${event.instruction}  ${(event.durationMs / 1000).toFixed(1)}s`);
        return;
      case "output": {
        const text = event.text.replace(/\n$/, "");
        this.#set(`output ${event.step}`, `   ${text}`);
        return;
      }
      case "warning":
        this.#set(`warning ${this.#rows.length}`, `WARNING: ${event.message}`);
        return;
      case "image":
        this.#header = `[+] Building ${event.total}/${event.total} FINISHED in ${(event.durationMs / 1000).toFixed(1)}s`;
        for (let i = this.#rows.length - 1; i >= 0; i--) if (this.#rows[i]!.key.startsWith("output ")) this.#rows.splice(i, 1);
        this.#set("image", `=> writing image ${event.id}${event.tags.length > 0 ? `, naming ${event.tags.join(", ")}` : ""}`);
        return;
    }
  }

  #draw(): void {
    if (this.#ended) return;
    // A pseudo-terminal whose size was never set reports 0 columns.
    const width = this.#stream.columns || 80;
    const fit = (line: string) => (line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line);
    const lines = [...(this.#header === undefined ? [] : [this.#header]), ...this.#rows.map((r) => r.text)].map(fit);
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    this.#stream.write(`${up}${lines.map((l) => `\r\x1b[2K${l}\n`).join("")}`);
    this.#drawn = lines.length;
  }

  end(): void {
    this.#draw();
    this.#ended = true;
  }
}
