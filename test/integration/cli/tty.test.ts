import "../setup-env.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { bento, bentoCli, leftoversOfPrefix, repo } from "./helpers.js";

const driver = join(repo, "test/fixtures/pty-driver.py");

type Step = { send: string } | { expect: string } | { resize: [number, number] };

/**
 * Waits for a whole line of output: after its line feed, up to the carriage return that ends it
 * (which leaves the line feed after it to the next line).
 */
const line = (pattern: string): Step => ({ expect: `\\n${pattern}\\r` });

/** Runs `bento <args>` on a new pseudo-terminal of rows x columns, as a person typing `steps`. */
async function atTerminal(rows: number, columns: number, steps: Step[], args: string[]): Promise<{ output: string; code: number | null; unmatched?: string }> {
  const child = spawn("python3", [driver, String(rows), String(columns), JSON.stringify(steps), process.execPath, bentoCli, ...args], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
  let text = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (text += d));
  await once(child, "close");
  return JSON.parse(text) as { output: string; code: number | null };
}

describe("bento run -it", () => {
  it("is a shell at this terminal: typed commands answer, its size follows ours, Ctrl-C stops the foreground process, exit 3 is bento's exit code", async () => {
    const steps: Step[] = [
      { expect: "# " },
      { send: "echo $((6 * 7)); hostname\r" },
      line("42"),
      line("([0-9a-f]{12})"),
      { send: "stty size\r" },
      line("30 100"),
      // A foreground job that ends when the container's terminal is resized (its SIGWINCH);
      // the shell then reads the new size.
      { send: `sh -c 'trap "echo resized; exit" WINCH; echo waiting; while :; do sleep 1; done'\r` },
      line("waiting"),
      { resize: [40, 120] },
      line("resized"),
      { send: "stty size\r" },
      line("40 120"),
      // Ctrl-C is a byte for the container's terminal: the job dies of SIGINT, the shell stays.
      { send: "sh -c 'echo sleeping; exec sleep 1000'\r" },
      line("sleeping"),
      { send: "\x03" },
      { send: "echo status $?\r" },
      line("status 130"),
      { send: "exit 3\r" },
    ];
    const r = await atTerminal(30, 100, steps, ["run", "-it", busyboxRootfs(), "sh"]);
    expect(r.unmatched).toBeUndefined();
    expect(r.code).toBe(3);
    const id = /\n42\r+\n([0-9a-f]{12})\r/.exec(r.output)![1]!;
    expect(leftoversOfPrefix(id)).toEqual([]);
  });

  it("-i alone forwards standard input without a terminal; -t alone gives one", async () => {
    const child = spawn(process.execPath, [bentoCli, "run", "-i", busyboxRootfs(), "sh", "-c", "[ -t 0 ] || echo no terminal; tr a-z A-Z"], { env: process.env, stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stdin.end("piped in\n");
    const [code] = (await once(child, "close")) as [number];
    expect({ code, out }).toEqual({ code: 0, out: "no terminal\nPIPED IN\n" });
    const t = await bento(["run", "-t", busyboxRootfs(), "sh", "-c", "[ -t 0 ] && stty size"]);
    expect(t).toMatchObject({ code: 0, stdout: "24 80\r\n" });
  });
});

describe("bento exec -it", () => {
  it("opens a shell on a new terminal in a detached container; its exit code is bento's", async () => {
    const started = await bento(["run", "-d", "--name", "tty-exec", busyboxRootfs(), "sleep", "1000"]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    const steps: Step[] = [{ expect: "# " }, { send: "tty; stty size\r" }, line("/dev/pts/\\d+"), line("25 90"), { send: "exit 3\r" }];
    const r = await atTerminal(25, 90, steps, ["exec", "-it", "tty-exec", "sh"]);
    expect(r.unmatched).toBeUndefined();
    expect(r.code).toBe(3);
    expect((await bento(["rm", "-f", "tty-exec"])).code).toBe(0);
    expect(leftoversOfPrefix(id.slice(0, 12))).toEqual([]);
  });
});

describe("bento attach", () => {
  it("puts this terminal on a detached container's terminal from another process; its exit code is bento's", async () => {
    const started = await bento(["run", "-dit", "--name", "tty-attach", busyboxRootfs(), "sh"]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    // The prompt was printed before we came: Enter asks for a new one.
    const steps: Step[] = [{ send: "\r" }, { expect: "# " }, { send: "stty size\r" }, line("20 70"), { send: "exit 3\r" }];
    const r = await atTerminal(20, 70, steps, ["attach", "tty-attach"]);
    expect(r.unmatched).toBeUndefined();
    expect(r.code).toBe(3);
    expect((await bento(["rm", "tty-attach"])).code).toBe(0);
    expect(leftoversOfPrefix(id.slice(0, 12))).toEqual([]);
  });

  it("detaches on Ctrl-P Ctrl-Q (or --detach-keys), leaving the container running; held keys go on when the sequence breaks", async () => {
    const started = await bento(["run", "-dit", "--name", "tty-detach", busyboxRootfs(), "sh"]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    const first = await atTerminal(20, 70, [{ send: "\r" }, { expect: "# " }, { send: "\x10\x11" }], ["attach", "tty-detach"]);
    expect(first).toMatchObject({ code: 0, output: expect.stringContaining("read escape sequence") });
    expect((await bento(["inspect", "-f", "{{.State.Status}}", "tty-detach"])).stdout).toBe("running\n");
    const second = await atTerminal(20, 70, [{ send: "\r" }, { expect: "# " }, { send: "echo qq\r" }, line("qq"), { send: "qx" }], ["attach", "--detach-keys", "q,x", "tty-detach"]);
    expect(second.unmatched).toBeUndefined();
    expect(second.code).toBe(0);
    const last = await atTerminal(20, 70, [{ send: "\r" }, { expect: "# " }, { send: "exit 3\r" }], ["attach", "tty-detach"]);
    expect(last.code).toBe(3);
    const bad = await bento(["attach", "--detach-keys", "ctrl-1", "tty-detach"]);
    expect(bad).toMatchObject({ code: 125, stderr: expect.stringContaining('"ctrl-1" is not a key') });
    expect((await bento(["rm", "tty-detach"])).code).toBe(0);
    expect(leftoversOfPrefix(id.slice(0, 12))).toEqual([]);
  });

  it("refuses a container without a terminal, naming the fix", async () => {
    const started = await bento(["run", "-d", "--name", "no-tty", busyboxRootfs(), "sleep", "1000"]);
    const id = started.stdout.trim();
    const r = await bento(["attach", "no-tty"]);
    expect((await bento(["rm", "-f", "no-tty"])).code).toBe(0);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/no terminal to attach to.*bento run -dit/) });
    expect(leftoversOfPrefix(id.slice(0, 12))).toEqual([]);
  });
});
