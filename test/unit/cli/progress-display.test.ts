import { describe, expect, it } from "vitest";
import { parseProgressMode, progressBar, progressDisplay } from "../../../src/cli/progress-display.js";
import { UsageError } from "../../../src/cli/args.js";
import type { TransferProgress } from "../../../src/registry/progress.js";
import type { Digest } from "../../../src/store/digest.js";

/** A fake terminal: collects what is written, and replays cursor-up / clear-line to give the screen. */
function terminal(columns: number) {
  const writes: string[] = [];
  return {
    isTTY: true,
    columns,
    writes,
    write(chunk: string) {
      writes.push(chunk);
    },
    /** The screen after every write: lines, with cursor-up moving back over the last frame. */
    screen(): string[] {
      const lines: string[] = [];
      let row = 0;
      const all = writes.join("");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: splits on the terminal escapes the display writes
      for (const part of all.split(/(\x1b\[\d+A|\r\x1b\[2K|\n)/)) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: splits on the terminal escapes the display writes
        const up = /^\x1b\[(\d+)A$/.exec(part);
        if (up) row -= Number(up[1]);
        else if (part === "\n") row++;
        else if (part === "\r\x1b[2K") lines[row] = "";
        else if (part !== "") lines[row] = (lines[row] ?? "") + part;
      }
      return lines.slice(0, row);
    },
  };
}

const layer = (digest: string, status: TransferProgress["status"], bytes: number, totalBytes = 4_000_000): TransferProgress => ({
  reference: "localhost:5000/app:1",
  kind: "layer",
  digest: `sha256:${digest.padEnd(64, "0")}` as Digest,
  status,
  bytes,
  totalBytes,
});

describe("the tty progress display", () => {
  it("redraws one row per layer in place, with bytes and a bar, and cuts lines to the terminal's width", () => {
    const tty = terminal(60);
    const display = progressDisplay("auto", tty);
    display.transfer(layer("aaaa", "downloading", 0));
    display.transfer(layer("bbbb", "exists", 1000, 1000));
    display.transfer(layer("aaaa", "downloading", 2_000_000));
    expect(tty.screen()).toEqual(["Pulling localhost:5000/app:1", "aaaa00000000: Downloading [===============>              ] …", "bbbb00000000: Already exists"]);
    // The third frame moves the cursor up over the three lines of the second.
    expect(tty.writes[2]!.startsWith("\x1b[3A")).toBe(true);
    display.transfer(layer("aaaa", "downloaded", 4_000_000));
    display.end();
    display.transfer(layer("cccc", "downloading", 0));
    expect(tty.screen()).toEqual(["Pulling localhost:5000/app:1", "aaaa00000000: Download complete", "bbbb00000000: Already exists"]);
  });

  it("shows build steps with CACHED, the running step's last output line, and durations", () => {
    const tty = terminal(120);
    const display = progressDisplay("tty", { ...tty, isTTY: false, write: tty.write, columns: 120 });
    display.build({ type: "step", step: 1, total: 3, stage: "0", instruction: "FROM scratch", cached: true });
    display.build({ type: "step", step: 2, total: 3, stage: "0", instruction: "COPY rootfs/ /", cached: true });
    display.build({ type: "step", step: 3, total: 3, stage: "0", instruction: "RUN echo hi", cached: false, cause: "new", reason: "first build" });
    display.build({ type: "output", step: 3, stream: "stdout", text: "hi\n" });
    expect(tty.screen()).toEqual(["[+] Building 3/3", "=> [0 1/3] FROM scratch  CACHED", "=> [0 2/3] COPY rootfs/ /  CACHED", "=> [0 3/3] RUN echo hi  ...", "   hi"]);
    display.build({ type: "step-done", step: 3, total: 3, stage: "0", instruction: "RUN echo hi", durationMs: 1234 });
    display.build({ type: "image", id: "sha256:abc", tags: ["app:1"], cachedSteps: 2, total: 3, durationMs: 2000 });
    display.end();
    expect(tty.screen()).toEqual(["[+] Building 3/3 FINISHED in 2.0s", "=> [0 1/3] FROM scratch  CACHED", "=> [0 2/3] COPY rootfs/ /  CACHED", "=> [0 3/3] RUN echo hi  1.2s", "=> writing image sha256:abc, naming app:1"]);
  });
});

describe("the plain progress display", () => {
  it("prints a line per change, once per blob while bytes move, and nothing in quiet mode", () => {
    const out: string[] = [];
    const plain = progressDisplay("auto", { write: (c: string) => out.push(c) });
    plain.transfer(layer("aaaa", "downloading", 0));
    plain.transfer(layer("aaaa", "downloading", 2_000_000));
    plain.transfer(layer("aaaa", "downloaded", 4_000_000));
    plain.build({ type: "step", step: 1, total: 1, stage: "0", instruction: "FROM scratch", cached: true });
    expect(out.join("")).toBe("aaaa00000000: Downloading (layer) 0B/4MB\naaaa00000000: Download complete (layer)\n[0] step 1/1: FROM scratch (cached)\n");
    const quiet: string[] = [];
    const q = progressDisplay("quiet", { isTTY: true, write: (c: string) => quiet.push(c) });
    q.transfer(layer("aaaa", "downloading", 0));
    q.end();
    expect(quiet).toEqual([]);
  });

  it("progressBar and parseProgressMode", () => {
    expect(progressBar(0, 100, 10)).toBe("[>         ]");
    expect(progressBar(50, 100, 10)).toBe("[=====>    ]");
    expect(progressBar(100, 100, 10)).toBe("[==========]");
    expect(parseProgressMode(undefined, "u")).toBe("auto");
    expect(() => parseProgressMode("fancy", "u")).toThrow(UsageError);
    expect(() => parseProgressMode("fancy", "u")).toThrow('--progress "fancy": expected auto, plain, tty or quiet');
  });
});
