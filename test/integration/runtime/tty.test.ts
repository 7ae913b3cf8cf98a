import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const made: string[] = [];

afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

/** Collects a readable stream's text until `pattern` shows in it. */
function textUntil(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<string> {
  let text = "";
  return new Promise((resolve, reject) => {
    stream.on("data", (c: Buffer) => {
      text += c.toString("utf8");
      if (pattern.test(text)) resolve(text);
    });
    stream.on("end", () => reject(new Error(`the terminal ended before ${pattern}: ${JSON.stringify(text)}`)));
  });
}

describe("tty: true", () => {
  it("gives the command a terminal of the size asked for, and logs its output as one stream", async () => {
    const image = Image.fromRootfs(busyboxRootfs());
    const command = ["sh", "-c", '[ -t 0 ] && [ -t 1 ] && echo "stdin and stdout are a terminal: $(tty)"; stty size; echo "TERM=$TERM"; echo oops >&2'];
    const running = await new Container(image, { command, tty: true, consoleSize: { rows: 33, columns: 101 } }).start();
    made.push(running.id);
    const shown = textUntil(running.terminalOutput!, /oops/);
    expect((await running.wait()).exitCode).toBe(0);
    const expected = "stdin and stdout are a terminal: /dev/pts/0\r\n33 101\r\nTERM=xterm\r\noops\r\n";
    expect(await shown).toBe(expected);
    // stderr too went to the terminal: the log has one stream, the terminal's (as docker logs).
    const stopped = await running.stop();
    expect(await stopped.logs({ stream: "stdout" })).toBe(expected);
    await stopped.remove();
  });

  it("types what stdin writes, resizes the window on request, and Ctrl-C stops the foreground process", async () => {
    const image = Image.fromRootfs(busyboxRootfs());
    const running = await new Container(image, { command: ["sh"], tty: true, interactive: true }).start();
    made.push(running.id);
    const out = running.terminalOutput!;
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString("utf8")));
    const until = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (pattern.test(text)) {
            out.off("data", check);
            resolve();
          }
        };
        out.on("data", check);
        check();
      });
    running.stdin!.write("stty size\r");
    await until(/24 80/);
    running.resize(40, 120);
    running.stdin!.write("stty size\r");
    await until(/40 120/);
    // The foreground process says when it runs (the terminal echoes the line at once).
    running.stdin!.write("sh -c 'echo sleeping; exec sleep 1000'\r");
    await until(/\r\nsleeping\r\n/);
    running.stdin!.write("\x03");
    // The shell survives (it answers) and reports its job killed by SIGINT.
    running.stdin!.write("echo status $?\r");
    await until(/\r\nstatus 130\r\n/);
    running.stdin!.write("exit 3\r");
    expect((await running.wait()).exitCode).toBe(3);
    await (await running.stop()).remove();
  });

  it("refuses a size without tty, and a size out of range, naming the option", () => {
    const image = Image.fromRootfs(busyboxRootfs());
    expect(() => new Container(image, { consoleSize: { rows: 10, columns: 10 } })).toThrow(/consoleSize.*tty: true/);
    expect(() => new Container(image, { tty: true, consoleSize: { rows: 0, columns: 10 } })).toThrow(/consoleSize\.rows.*1 to 65535/);
  });
});

describe("exec with tty: true", () => {
  it("runs the command on a new terminal of the container, its output one stream", async () => {
    const image = Image.fromRootfs(busyboxRootfs());
    const running = await new Container(image, { command: ["sleep", "1000"] }).start();
    made.push(running.id);
    const r = await running.exec(["sh", "-c", "[ -t 0 ] && tty; stty size; echo err >&2; exit 4"], { tty: true, consoleSize: { rows: 12, columns: 34 } });
    expect(r).toEqual({ exitCode: 4, stdout: expect.stringMatching(/^\/dev\/pts\/\d+\r\n12 34\r\nerr\r\n$/), stderr: "" });
    await (await running.stop({ timeoutMs: 0 })).remove();
  });
});
