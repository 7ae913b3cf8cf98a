/**
 * The README's CLI section as code: each of its `sh` blocks runs, as written, in a shell where
 * `bento` is this checkout's CLI, and leaves nothing behind.
 */
import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { config } from "../../../src/config.js";
import { listMachineContainers } from "../../../src/runtime/machine-containers.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { bento, bentoCli, repo, waitUntil } from "./helpers.js";

const made: string[] = [];

afterEach(async () => {
  // run --rm -d's remover removes its container in the background once it exited.
  expect(await waitUntil(() => listMachineContainers().length === 0, 20_000)).toBe(true);
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids)]).toEqual([]);
});

/** The `sh` blocks of the README's "The `bento` CLI" section. */
function cliBlocks(): string[] {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const start = readme.indexOf("## The `bento` CLI");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs a block with `bento` as this checkout's CLI; resolves with its output whatever its status. */
async function runBlock(block: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const prelude = `bento() { "${process.execPath}" "${bentoCli}" "$@"; }\n`;
  try {
    const { stdout, stderr } = await promisify(execFile)("sh", ["-eu", "-c", prelude + block], { cwd, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("the README's bento CLI blocks", () => {
  it("has the three blocks: a detached container, a network, a detached compose stack", () => {
    expect(cliBlocks()).toHaveLength(3);
  });

  it("runs the detached container block", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bento-readme-cli-"));
    const r = await runBlock(cliBlocks()[0]!, dir, { ROOTFS: busyboxRootfs() });
    made.push(...[...r.stdout.matchAll(/^([0-9a-f]{64})$/gm)].map((m) => m[1]!));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\nready\nrunning\n/);
    expect(made).toHaveLength(2); // web, and the --rm one
  }, 180_000);

  it("runs the network block: a container reaches another by its alias; rm is refused, then removes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bento-readme-net-"));
    const r = await runBlock(cliBlocks()[1]!, dir, { ROOTFS: busyboxRootfs() });
    made.push(...[...r.stdout.matchAll(/^([0-9a-f]{64})$/gm)].map((m) => m[1]!));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n[0-9a-f]{64}\nhello\nNETWORK ID +NAME +DRIVER +SCOPE\n[0-9a-f]{12} +appnet +bridge +local\ndb 10\.89\.0\.2\/24\nrefused\ndb\nappnet\n$/);
    expect(r.stderr).toBe("bento: network appnet has active endpoints (db); stop or remove them first (bento rm -f db)\n");
    expect(existsSync(join(config().runtimeDir, "networks", "appnet"))).toBe(false);
  }, 180_000);

  it("runs the compose block on a compose.yaml with a web service", async () => {
    const context = mkdtempSync(join(tmpdir(), "bento-readme-ctx-"));
    cpSync(busyboxRootfs(), join(context, "rootfs"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(context, "Dockerfile"), 'FROM scratch\nCOPY rootfs/ /\nCMD ["sh"]\n');
    expect((await bento(["build", "-q", "-t", "readme-busybox:1", context])).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "bento-readme-compose-"));
    writeFileSync(join(dir, "compose.yaml"), 'services:\n  web:\n    image: readme-busybox:1\n    init: true\n    command: ["sh", "-c", "echo web is up; exec sleep 1000"]\n');
    const r = await runBlock(cliBlocks()[2]!, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("ready\nweb | web is up\n");
  }, 180_000);
});
