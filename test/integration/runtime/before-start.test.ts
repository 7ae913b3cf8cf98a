/**
 * Files put into a container before it starts (`files`), and exec with standard input and
 * streamed output.
 */
import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image, StartupError, type ContainerOptions, type RunningContainer } from "../../../src/index.js";
import { config } from "../../../src/config.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const made: string[] = [];
const containerDirs = () => readdirSync(join(config().home, "containers")).sort();
afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

/** An image without tar (only the static probe and busybox's sh and cat), with /srv -> /opt/real. */
function noTarImage(): Image {
  return Image.fromRootfs(busyboxRootfs()).run(["/bin/sh", "-c", "mkdir -p /opt/real && ln -s /opt/real /srv && ln -s ../../.. /opt/real/up && rm /bin/tar"]);
}

async function start(options: ContainerOptions, image = noTarImage()): Promise<RunningContainer> {
  const running = await new Container(image, { command: ["sleep", "60"], ...options }).start();
  made.push(running.id);
  return running;
}

describe(`files before start`, () => {
  it("writes content and host files before the command runs, in an image without tar", async () => {
    const dir = join(testRoot, "files-src");
    mkdirSync(join(dir, "tree/sub"), { recursive: true });
    writeFileSync(join(dir, "tree/sub/a.txt"), "from a directory\n");
    writeFileSync(join(dir, "single.txt"), "a host file\n");
    // The command reads them at once: they must be there before it starts.
    const running = await new Container(noTarImage(), {
      command: ["sh", "-c", "cat /etc/app/app.conf /data/single.txt /data/tree/sub/a.txt; stat -c %a /etc/app/app.conf; test -e /bin/tar || echo no-tar; sleep 60"],
      files: [
        { content: "key=value\n", target: "/etc/app/app.conf", mode: 0o600 },
        { source: join(dir, "single.txt"), target: "/data/single.txt" },
        { source: join(dir, "tree"), target: "/data/tree" },
      ],
    }).start();
    made.push(running.id);
    await expect.poll(() => running.logs(), { timeout: 10_000 }).toContain("no-tar");
    expect(await running.logs()).toBe("key=value\na host file\nfrom a directory\n600\nno-tar\n");
    await (await running.stop()).remove();
  });

  it("follows image symlinks inside the root, never out of it", async () => {
    const running = await start({
      files: [
        { content: "through a link\n", target: "/srv/via-link.txt" },
        { content: "stays inside\n", target: "/opt/real/up/escaped.txt" },
      ],
    });
    expect((await running.exec(["cat", "/opt/real/via-link.txt", "/escaped.txt"])).stdout).toBe("through a link\nstays inside\n");
    await (await running.stop()).remove();
  });

  it("refuses bad files with the option named, and leaves nothing", async () => {
    expect(() => new Container(noTarImage(), { files: [{ content: "x", target: "relative.txt" }] })).toThrow(/files\[0\]\.target/);
    expect(() => new Container(noTarImage(), { files: [{ source: join(testRoot, "missing"), target: "/x" }] })).toThrow(/files\[0\]\.source.*does not exist/);
    expect(() => new Container(noTarImage(), { files: [{ content: "x", target: "/data/x" }], mounts: [{ tmpfs: "/data" }] })).toThrow(/files\[0\]\.target.*under the mount at "\/data"/);
    expect(() => new Container(noTarImage(), { files: [{ content: 1 as unknown as string, target: "/x" }] })).toThrow(/files\[0\]\.content/);
    // Content over a directory the image has: the start fails before the command, and removes the container.
    const before = containerDirs();
    const error = await new Container(noTarImage(), { command: ["true"], files: [{ content: "x", target: "/srv" }] }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).phase).toBe("prepare");
    expect(String((error as StartupError).cause)).toMatch(/"\/srv" is a directory in the image/);
    expect(containerDirs()).toEqual(before);
  });
});

describe(`exec with stdin and streamed output`, () => {
  it("feeds a string, bytes and a stream to the command's input", async () => {
    const running = await start({}, Image.fromRootfs(busyboxRootfs()));
    expect((await running.exec(["cat"], { stdin: "hello\n" })).stdout).toBe("hello\n");
    expect((await running.exec(["wc", "-c"], { stdin: Buffer.alloc(70_000, 1) })).stdout.trim()).toBe("70000");
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16_384, i));
    expect((await running.exec(["wc", "-c"], { stdin: Readable.from(chunks) })).stdout.trim()).toBe(String(64 * 16_384));
    // A command that never reads an endless stream still ends.
    const endless = Readable.from(
      (function* () {
        for (;;) yield Buffer.alloc(4096);
      })(),
    );
    expect((await running.exec(["true"], { stdin: endless })).exitCode).toBe(0);
    endless.destroy();
    await (await running.stop()).remove();
  });

  it("streams output while the command runs", async () => {
    const running = await start({}, Image.fromRootfs(busyboxRootfs()));
    const seen: string[] = [];
    let release!: () => void;
    const firstLine = new Promise<void>((resolve) => (release = resolve));
    const exec = running.exec(["sh", "-c", "echo first; echo oops >&2; read line; echo $line"], {
      stdin: (async function* () {
        await firstLine; // the second line goes in only after the first came out
        yield "second\n";
      })(),
      onOutput: (stream, chunk) => {
        seen.push(`${stream}:${chunk.toString()}`);
        if (chunk.toString().includes("first")) release();
      },
    });
    const result = await exec;
    expect(result).toEqual({ exitCode: 0, stdout: "first\nsecond\n", stderr: "oops\n" });
    expect(seen.join("")).toContain("stdout:first\n");
    expect(
      seen
        .filter((s) => s.startsWith("stdout"))
        .join("")
        .replaceAll("stdout:", ""),
    ).toBe("first\nsecond\n");
    await (await running.stop()).remove();
  });
});
