/**
 * What the host's cgroup2 "favordynmods" mount option does to bento's start time. Moving a
 * process into a v1 cgroup (as bento and crun must on hybrid hosts, before the payload runs)
 * takes the global cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period
 * when the lock was idle: 2.5-23 ms on these VMs. favordynmods keeps that lock ready for writers
 * (cgroup-v2.rst), at a small cost to every fork and exit. bento never changes the host's mounts
 * itself; this bench turns the option on for its second half and restores the mount after.
 *
 *   npx tsx bench/cgroup-tuning.ts      (also called by bench/run.ts through benchCgroupTuning)
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Container, Image } from "../src/index.js";
import { ensureBusyboxRootfs } from "../examples/busybox-rootfs.js";

const iterations = Number(process.env.BENCH_TUNING_ITERATIONS ?? 30);

function cgroup2MountPoint(): string | undefined {
  const line = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.includes(" - cgroup2 "));
  return line?.split(" ")[4];
}

function options(mountPoint: string): string {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === mountPoint)!
    .split(" - ")[1]!
    .split(" ")[2]!;
}

async function medianStartToRemove(rootfs: string): Promise<number> {
  const image = Image.fromRootfs(rootfs).cmd(["/bin/true"]);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    // Idle gaps like a test suite's, so the lock goes idle between starts as it does there.
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    // With a limit: only then does a container join v1 cgroups (the move the option speeds up).
    const c = await new Container(image, { resources: { memory: "64m" } }).start();
    await c.wait();
    await (await c.stop()).remove();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Number(times[Math.floor(times.length / 2)]!.toFixed(2));
}

/** bento's start-to-remove median (a container with a memory limit) with the host's cgroup2 mount as it is, then with favordynmods. */
export async function benchCgroupTuning(): Promise<Record<string, number | string>> {
  const mountPoint = cgroup2MountPoint();
  if (!mountPoint) return { skipped: "no cgroup2 hierarchy is mounted" };
  const original = options(mountPoint);
  if (original.split(",").includes("favordynmods")) return { skipped: `${mountPoint} is already mounted with favordynmods` };
  const rootfs = ensureBusyboxRootfs(join(tmpdir(), "bento-bench-tuning-rootfs-v1"));
  const asIs = await medianStartToRemove(rootfs);
  execFileSync("mount", ["-o", "remount,favordynmods", mountPoint]);
  let tuned: number;
  try {
    tuned = await medianStartToRemove(rootfs);
  } finally {
    // util-linux merges the old options into a remount; --options-mode ignore gives exactly these.
    execFileSync("mount", ["--options-mode", "ignore", "-o", `remount,${original}`, mountPoint]);
  }
  return {
    "start-to-remove median, memory-limited container, ms (host as is)": asIs,
    [`start-to-remove median, ms (${mountPoint} with favordynmods)`]: tuned,
    ratio: Number((tuned / asIs).toFixed(2)),
    restored: options(mountPoint),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchCgroupTuning());
}
