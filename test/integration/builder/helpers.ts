/**
 * Helpers of the build integration tests: build contexts made from a file list, progress
 * collectors, containers run from built images, and the leak check for build containers (which
 * the engine creates and removes itself, so their ids are read from the runtime's directories).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { config } from "../../../src/config.js";
import { Container } from "../../../src/container/container.js";
import type { ContainerOptions } from "../../../src/container/options.js";
import type { BuildProgressEvent, BuildStepEvent } from "../../../src/builder/index.js";
// The registry layer installs itself into the build engine (pulls for FROM, archive imports).
import "../../../src/registry/store.js";
import type { Image } from "../../../src/image/image.js";
import { testRoot } from "../setup-env.js";
import { leftovers } from "../leaks.js";

/** A file of a test context: text, or `{ symlink }`, or text with a mode. */
export type ContextFile = string | { symlink: string } | { content: string; mode: number };

/** Creates a build context directory with these files (paths relative to it). */
export function makeContext(files: Record<string, ContextFile>): string {
  const dir = mkdtempSync(join(testRoot, "context-"));
  writeContext(dir, files);
  return dir;
}

/** Writes (or overwrites) files in a context. */
export function writeContext(dir: string, files: Record<string, ContextFile>): void {
  for (const [rel, file] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof file === "string") writeFileSync(path, file);
    else if ("symlink" in file) symlinkSync(file.symlink, path);
    else {
      writeFileSync(path, file.content);
      chmodSync(path, file.mode);
    }
  }
}

/** Collects progress events; `steps()` gives the step-start events. */
export function progress(): { onProgress: (e: BuildProgressEvent) => void; events: BuildProgressEvent[]; steps(): BuildStepEvent[] } {
  const events: BuildProgressEvent[] = [];
  return {
    events,
    onProgress: (e) => events.push(e),
    steps: () => events.filter((e): e is BuildStepEvent => e.type === "step"),
  };
}

/** Each step's instruction with "CACHED" or its cause, to compare in one assertion. */
export function summary(events: BuildStepEvent[]): string[] {
  return events.map((e) => `${e.cached ? "CACHED" : e.cause} ${e.instruction.split("\n")[0]}`);
}

const started: string[] = [];

/** Runs a container from `image` to completion and removes it. */
export async function runImage(image: Image, options: ContainerOptions = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const running = await new Container(image, options).start();
  started.push(running.id);
  const exit = await running.wait();
  const stdout = await running.logs({ stream: "stdout" });
  const stderr = await running.logs({ stream: "stderr" });
  await (await running.stop()).remove();
  return { exitCode: exit.exitCode, stdout, stderr };
}

/**
 * Asserts that nothing is left: no container this file started, no build container (their
 * directories under the runtime dir and BENTO_HOME), no process, mount or cgroup of either.
 */
export function expectNoLeaks(): void {
  const cfg = config();
  const ids = new Set(started.splice(0));
  for (const dir of [join(cfg.runtimeDir, "containers"), join(cfg.home, "containers")]) {
    try {
      for (const name of readdirSync(dir)) if (/^[0-9a-f]{64}$/.test(name)) ids.add(name);
    } catch {
      // not created yet
    }
  }
  expect(leftovers([...ids])).toEqual([]);
}
