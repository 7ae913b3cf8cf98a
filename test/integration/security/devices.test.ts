import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { hostDisk, run, sh } from "./kit.js";

describe(`device policy`, () => {
  it("refuses to read the host's disk through a node made with mknod in /dev", async () => {
    const r = await run(sh(`mknod /dev/disk b ${hostDisk()}; head -c 512 /dev/disk | wc -c`));
    expect(r.stdout.trim()).toBe("0");
    expect(r.stderr).toMatch(/Permission denied|Operation not permitted/);
  });

  it("refuses a host disk node made in a bind-mounted host directory (no nodev there: the cgroup device policy decides)", async () => {
    const dir = join(testRoot, "devdir");
    mkdirSync(dir, { recursive: true });
    const r = await run(sh(`mknod /host/disk b ${hostDisk()}; head -c 512 /host/disk | wc -c`), { mounts: [{ bind: dir, target: "/host" }] });
    expect(r.stdout.trim()).toBe("0");
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  it("refuses the host's kernel log (/dev/kmsg, char 1:11) made with mknod", async () => {
    const r = await run(sh("mknod /dev/kmsg c 1 11; head -c 1 /dev/kmsg | wc -c"));
    expect(r.stdout.trim()).toBe("0");
  });

  it("keeps null, zero, full, random, urandom, tty and the pts usable, and /dev mounted nodev", async () => {
    const r = await run(
      sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && head -c 4 /dev/random | wc -c && " + "(echo x > /dev/full) 2>&1 | grep -c 'No space' && grep ' /dev ' /proc/self/mountinfo"),
    );
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, 4)).toEqual(["4", "4", "4", "1"]);
    expect(lines[4]).toMatch(/ \/dev [^ ]*nodev/);
  });
});
