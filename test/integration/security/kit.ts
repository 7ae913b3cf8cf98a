/**
 * Shared pieces of the escape suite: the busybox image, the static escape probe (compiled once per
 * machine, bind-mounted read-only at /escape-probe), a run-to-completion helper, and the leak check.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { Container, Image, type ContainerOptions, type MountSpec, type RunningContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const made: string[] = [];

afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

/** The escape probe's host path, built on first use. */
export function escapeProbe(): string {
  const out = join(tmpdir(), "bento-escape-probe-v3");
  if (!existsSync(out)) {
    const tmp = `${out}.tmp-${process.pid}`;
    execFileSync("cc", ["-O2", "-static", "-o", tmp, join(import.meta.dirname, "../../fixtures/escape-probe.c")]);
    renameSync(tmp, out);
  }
  return out;
}

export const probeMount: MountSpec = { bind: escapeProbe(), target: "/escape-probe", readonly: true };

/** Starts a busybox container with the probe mounted; it is leak-checked after the test. */
export async function start(command: string[], options: ContainerOptions = {}): Promise<RunningContainer> {
  const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command, ...options, mounts: [probeMount, ...(options.mounts ?? [])] }).start();
  made.push(running.id);
  return running;
}

/** Runs a command to completion; returns its exit code and output, and removes the container. */
export async function run(command: string[], options: ContainerOptions = {}) {
  const running = await start(command, options);
  const exit = await running.wait();
  const stdout = await running.logs({ stream: "stdout" });
  const stderr = await running.logs({ stream: "stderr" });
  await (await running.stop()).remove();
  return { ...exit, stdout, stderr };
}

export const sh = (script: string) => ["sh", "-c", script];

/** "major minor" of the host's largest block device (its disk). */
export function hostDisk(): string {
  const sizes = readdirSync("/sys/dev/block").map((d) => ({ d, size: Number(readFileSync(`/sys/dev/block/${d}/size`, "utf8")) }));
  const disk = sizes.sort((a, b) => b.size - a.size)[0];
  if (!disk || disk.size === 0) throw new Error("this machine has no block device with a size: the test needs one to try reading it");
  return disk.d.replace(":", " ");
}
