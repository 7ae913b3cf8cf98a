import { testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { bento, bentoCli } from "./helpers.js";

const bentoCommand = `${process.execPath} ${bentoCli}`;
const made: string[] = [];

/**
 * Processes running `bento compose ... up -d` (the stack's background process) in a project of
 * this file's: other test files run README blocks with `compose up -d` of their own meanwhile.
 */
function composeUpProcesses(): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        const ours = readlinkSync(`/proc/${pid}/cwd`).startsWith(`${testRoot}/`);
        return ours && argv.includes("compose") && argv.includes("up") && argv.includes("-d") ? [`${pid} ${argv.join(" ")}`] : [];
      } catch {
        return [];
      }
    });
}

afterEach(() => {
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids), ...composeUpProcesses()]).toEqual([]);
});

describe("bento compose up -d from a shell script", () => {
  it("runs the services in the background; ps, logs, exec and down reach them from new processes; nothing is left", async () => {
    const context = mkdtempSync(join(testRoot, "cli-ctx-"));
    cpSync(busyboxRootfs(), join(context, "rootfs"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(context, "Dockerfile"), 'FROM scratch\nCOPY rootfs/ /\nCMD ["sh"]\n');
    expect((await bento(["build", "-q", "-t", "cli-busybox:1", context])).code).toBe(0);
    const project = mkdtempSync(join(testRoot, "cli-compose-d-"));
    const script = join(import.meta.dirname, "compose-detached.sh");
    const run = await promisify(execFile)("sh", [script], { cwd: project, env: { ...process.env, BENTO: bentoCommand, IMAGE: "cli-busybox:1" } }).catch((error: { stdout: string; stderr: string }) => error);
    made.push(...[...run.stdout.matchAll(/^id ([0-9a-f]{64})$/gm)].map((m) => m[1]!));
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^id [0-9a-f]{64}\nid [0-9a-f]{64}\nok\n$/);
  }, 240_000);
});

describe("bento compose build", () => {
  it("builds the services with a build: section, tagged as compose tags them; a missing service is a usage error", async () => {
    const project = mkdtempSync(join(testRoot, "cli-compose-build-"));
    cpSync(busyboxRootfs(), join(project, "app/rootfs"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(project, "app/Dockerfile"), 'FROM scratch\nCOPY rootfs/ /\nARG GREETING\nRUN echo "$GREETING" > /greeting\n');
    writeFileSync(
      join(project, "compose.yaml"),
      `name: built
services:
  app:
    build:
      context: ./app
      args: { GREETING: hello }
  named:
    image: built-named:2
    build:
      context: ./app
      dockerfile_inline: |
        FROM scratch
        COPY rootfs/ /
  pulled:
    image: not-built:1
`,
    );
    const built = await bento(["compose", "build", "-q"], { cwd: project });
    expect(built).toMatchObject({ code: 0, stderr: "" });
    expect(built.stdout).toMatch(/^sha256:[0-9a-f]{64}\nsha256:[0-9a-f]{64}\n$/);
    expect((await bento(["run", "built-app", "cat", "/greeting"])).stdout).toBe("hello\n");
    expect((await bento(["inspect", "-f", "{{.Id}}", "built-named:2"])).stdout).toBe(`${built.stdout.split("\n")[1]}\n`);
    expect(await bento(["compose", "build", "nope"], { cwd: project })).toMatchObject({ code: 125 });
  }, 240_000);
});
