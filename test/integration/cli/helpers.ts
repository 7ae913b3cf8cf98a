/**
 * Running the bento CLI as a child process, and a second process that owns containers, both with
 * this test file's BENTO_HOME and BENTO_RUNTIME_DIR (set by setup-env.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { inject } from "vitest";
import { config } from "../../../src/config.js";
import { cgroupDriver } from "../../../src/runtime/cgroup/detect.js";

export const repo = join(import.meta.dirname, "../../..");
const tsx = join(repo, "node_modules/tsx/dist/esm/index.mjs");
/** The CLI bundled for this run (test/global-setup.ts): `node <bentoCli> ARGS...` is `bento ARGS...`. */
export const bentoCli = inject("bentoCli");

/** What one CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The one line bento prints on stderr, once per process, when it runs rootless without a
 * subordinate id range (runtime/user-namespace.ts). The CLI tests compare stderr without it;
 * logs-run.test.ts checks that it comes exactly once.
 */
export const rootlessNotice = /^bento: rootless with only your own id mapped \(container root\);.*\n/m;

/** Runs `bento <args>` to completion; `stderr` without the rootless notice, `rawStderr` with it. */
export async function bento(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult & { rawStderr: string }> {
  const child = spawn(process.execPath, [bentoCli, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? repo,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "",
    stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  // rawStderr is not enumerable, so tests comparing the whole result with toEqual see the four fields.
  return Object.defineProperty({ code, signal, stdout, stderr: stderr.replace(rootlessNotice, "") }, "rawStderr", { value: stderr, enumerable: false }) as CliResult & { rawStderr: string };
}

/** Starts `bento <args>` and returns the child, for commands that keep running (logs -f). */
export function bentoChild(args: string[]): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [bentoCli, ...args], { env: process.env, cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (d: string) => (output.stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (output.stderr += d));
  return Object.assign(child, { output });
}

/** A process that owns containers (owner.ts), and what it started. */
export interface Owner {
  child: ChildProcess;
  started: { id: string; name: string }[];
}

/** Starts an owner process with containers `name=script`; resolves once they run (or, with waitExit, once they exited). */
export async function startOwner(specs: string[], waitExit = false): Promise<Owner> {
  const child = spawn(process.execPath, ["--import", tsx, join(import.meta.dirname, "owner.ts"), ...(waitExit ? ["--wait-exit"] : []), ...specs], {
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const text = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buffered += d;
      if (buffered.includes("\n")) resolve(buffered);
    });
    child.once("exit", (code) => reject(new Error(`owner.ts exited with ${code} before starting its containers`)));
  });
  return { child, started: JSON.parse(text) as Owner["started"] };
}

/** Ends an owner process: SIGTERM runs its exit hooks (they remove its containers); SIGKILL leaves them behind. */
export async function stopOwner(owner: Owner, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (owner.child.exitCode !== null || owner.child.signalCode !== null) return;
  const exited = once(owner.child, "exit");
  owner.child.kill(signal);
  await exited;
}

/** Polls `check` every 20 ms until it is true or `timeoutMs` passed. */
export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/**
 * The leak check of leaks.ts for a container known only by the start of its id (a `bento run`
 * container prints its hostname, the id's first 12 characters): cgroups, state and container
 * dirs, mounts and processes whose name starts with it.
 */
export function leftoversOfPrefix(prefix: string): string[] {
  const cfg = config();
  const left: string[] = [];
  const parents = new Set(
    cgroupDriver()
      .paths("x")
      .map((p) => dirname(p)),
  );
  for (const parent of [...parents, join(cfg.runtimeDir, "containers"), join(cfg.home, "containers")]) {
    for (const entry of existsSync(parent) ? readdirSync(parent) : []) {
      if (entry.startsWith(`bento-${prefix}`) || entry.startsWith(prefix)) left.push(`${parent}/${entry}`);
    }
  }
  if (readFileSync("/proc/self/mountinfo", "utf8").includes(prefix)) left.push(`mount of ${prefix}`);
  const processes = readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")) && readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`bento-${prefix}`);
      } catch {
        return false;
      }
    });
  return [...left, ...processes.map((p) => `process ${p}`)];
}

/**
 * Owners a test file starts, and the check after each test that they are stopped and that
 * nothing of their containers is left.
 */
export function ownerTracker(leftoversOf: (ids: readonly string[]) => string[]) {
  const owners: Owner[] = [];
  const made: string[] = [];
  return {
    made,
    /** Starts an owner process with containers of `specs`, tracked for the check. */
    async owner(specs: string[], waitExit = false): Promise<Owner> {
      const o = await startOwner(specs, waitExit);
      owners.push(o);
      made.push(...o.started.map((s) => s.id));
      return o;
    },
    async checkAfterEach(): Promise<void> {
      for (const o of owners.splice(0)) await stopOwner(o);
      const ids = made.splice(0);
      const clean = await waitUntil(() => leftoversOf(ids).length === 0, 3000);
      if (!clean) throw new Error(`left behind: ${leftoversOf(ids).join(", ")}`);
    },
  };
}
