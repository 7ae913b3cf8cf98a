import "../setup-env.js";
import { readlinkSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { start } from "./kit.js";

describe(`the exec helper`, () => {
  it("cannot be stopped and robbed of its fds by container root to forge exec results (CVE-2016-9962)", async () => {
    // Unconfined: the default profile would refuse pidfd_getfd itself; the helper must hold on its own.
    // The probe watches for 10 s, the execs run for 5: the last exec ends long before the
    // container does, even under load (an exec still running when it exits is killed, 137).
    const running = await start(["/escape-probe", "steal", "10"], { seccomp: "unconfined" });
    const results: string[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const r = await running.exec(["echo", "genuine"]);
      results.push(`${r.exitCode} ${r.stdout}`);
    }
    const exit = await running.wait();
    const out = await running.logs({ stream: "stdout" });
    await (await running.stop()).remove();
    expect(exit.exitCode).toBe(0);
    expect(new Set(results)).toEqual(new Set(["0 genuine\n"]));
    expect(out).toMatch(/stolen 0\n/);
    // The probe did meet helpers on their way: the test tried something.
    expect(Number(/seen (\d+)/.exec(out)?.[1])).toBeGreaterThan(0);
  });

  it("runs bento-shim from a sealed copy that the container cannot open or rewrite through /proc/<pid>/exe (CVE-2019-5736)", async () => {
    const running = await start(["sleep", "30"]);
    // The host side: the running helper is a sealed memfd, not the file next to the addon.
    expect(readlinkSync(`/proc/${running.pid}/exe`)).toMatch(/^\/memfd:bento-shim/);
    const r = await running.exec(["sh", "-c", "(echo x >> /proc/1/exe) 2>&1; cat /proc/1/exe >/dev/null 2>&1 || echo unreadable"]);
    expect(r.stdout).toMatch(/Permission denied/);
    expect(r.stdout).toContain("unreadable");
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });
});
