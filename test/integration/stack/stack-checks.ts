/**
 * What the stack test files share: the busybox image, a recorder of stack events (which also
 * collects container ids for the leak checks), and the after-each checks that nothing a stack
 * made (containers, processes, host network devices, child processes) is left.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { config } from "../../../src/config.js";
import { Image } from "../../../src/image/image.js";
// The registry layer installs itself into the build engine (pulls for FROM, archive imports).
import "../../../src/registry/store.js";
import type { StackEvent } from "../../../src/stack/running-stack.js";
import { hostNetwork } from "../../fixtures/host-program.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const made = new Set<string>();

/**
 * Live (non-zombie) child processes of this worker: container shims and network helpers. The
 * rootless user namespace's holder lives as long as the process, by design.
 */
export function children(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.startsWith("bento-shim\0userns\0")) continue;
      if (fields[0] !== "Z" && Number(fields[1]) === process.pid) out.push(`${pid} ${cmdline.replace(/\0/g, " ")}`);
    } catch {
      // gone
    }
  }
  return out;
}

/** Every container id with a directory under the runtime dir or BENTO_HOME. */
function containerDirs(): string[] {
  const cfg = config();
  return [join(cfg.runtimeDir, "containers"), join(cfg.home, "containers")].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []));
}

/** Registers the leak checks after each test of the calling file. */
export function checkNothingLeaks(): void {
  const before = hostNetwork();
  afterEach(async () => {
    expect(leftovers([...made, ...containerDirs()])).toEqual([]);
    made.clear();
    expect(hostNetwork()).toBe(before);
    for (let i = 0; i < 50 && children().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(children()).toEqual([]);
  });
}

/** Records events, and the ids of every container the stack started (for the leak checks). */
export function recorder(): { events: StackEvent[]; onProgress: (e: StackEvent) => void; order: (status: string) => string[] } {
  const events: StackEvent[] = [];
  return {
    events,
    onProgress: (e) => {
      events.push(e);
      if (e.id) made.add(e.id);
    },
    order: (status) => events.filter((e) => e.status === status).map((e) => e.service),
  };
}

/** The busybox test image (with the static probe at /bin/probe). */
export const busybox = () => Image.fromRootfs(busyboxRootfs());

/** The body of GET / on 127.0.0.1:`port`, waiting until something answers. */
export async function fetchHost(port: number, host = "127.0.0.1"): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const body = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}/`).then(
      (r) => r.text(),
      () => "",
    );
    if (body) return body;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`nothing answered on ${host}:${port}`);
}

/**
 * Every capability a privileged container or exec gets: as root, this process's bounding set;
 * rootless, every capability the kernel knows, since they are those of the user namespace (whose
 * bounding set is full) and reach nothing outside it.
 */
export function privilegedCapabilities(): string {
  if (process.getuid?.() === 0) return /^CapBnd:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1]!;
  const last = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8"));
  return ((1n << BigInt(last + 1)) - 1n).toString(16).padStart(16, "0");
}
