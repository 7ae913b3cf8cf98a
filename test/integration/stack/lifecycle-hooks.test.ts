import "../setup-env.js";
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceStartupError } from "../../../src/stack/errors.js";
import { Stack } from "../../../src/stack/stack.js";
import { onlyRootInContainers } from "../rootless.js";
import { busybox, checkNothingLeaks, privilegedCapabilities, recorder } from "./stack-checks.js";

checkNothingLeaks();

describe(`compose post_start and pre_stop`, () => {
  it("post_start runs after the start and before dependents start; pre_stop runs before the stop", async () => {
    const out = mkdtempSync(join(tmpdir(), "bento-hooks-"));
    // Rootless without a subordinate id range only container root exists: no hook as nobody (the
    // runtime suite asserts that exec error).
    const nobodyHook = onlyRootInContainers
      ? ""
      : `      - command: ["sh", "-c", "id -u > /tmp/hook-user; grep CapEff /proc/self/status > /tmp/hook-caps"]
        user: nobody
`;
    const yaml = `
services:
  web:
    image: bb
    depends_on: [app]
    volumes: [shared:/data]
    command: ["sh", "-c", "cat /data/hooked > /tmp/reading 2>&1; mv /tmp/reading /tmp/seen; exec sleep 60"]
  app:
    image: bb
    volumes: [shared:/data, "${out}:/out"]
    command: ["sh", "-c", "while [ ! -e /data/hooked ]; do sleep 0.05; done; cp /data/hooked /data/main-saw; exec sleep 60"]
    post_start:
      - command: sh -c 'echo "$$(id -u) $$HOOK $$(pwd)" > /data/hooked'
        working_dir: /data
        environment: { HOOK: from-hook }
${nobodyHook}      - command: ["sh", "-c", "grep CapEff /proc/self/status > /tmp/privileged-caps"]
        privileged: true
    pre_stop:
      - command: ["sh", "-c", "cat /data/main-saw > /out/pre-stop"]
volumes:
  shared:
`;
    const rec = recorder();
    try {
      const running = await Stack.fromCompose({ yaml, env: {}, projectName: `hooks-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
      try {
        const app = running.service("app");
        const sh = async (c: typeof app, script: string) => (await c.exec(["sh", "-c", script])).stdout.trim();
        // The main process sees the hook's file.
        expect(await sh(app, "while [ ! -e /data/main-saw ]; do sleep 0.05; done; cat /data/main-saw")).toBe("0 from-hook /data");
        // The dependent started after the hooks: its command read the file at once.
        expect(await sh(running.service("web"), "while [ ! -e /tmp/seen ]; do sleep 0.05; done; cat /tmp/seen")).toBe("0 from-hook /data");
        if (!onlyRootInContainers) {
          expect(await sh(app, "cat /tmp/hook-user")).toBe("65534");
          expect(await sh(app, "cat /tmp/hook-caps")).toMatch(/^CapEff:\s*0+$/);
        }
        expect(await sh(app, "cat /tmp/privileged-caps")).toBe(`CapEff:\t${privilegedCapabilities()}`);
      } finally {
        await running.down({ timeoutMs: 1_000, removeVolumes: true });
      }
      expect(readFileSync(join(out, "pre-stop"), "utf8")).toBe("0 from-hook /data\n");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("a failed post_start hook fails the start naming the service and the hook; nothing is left and dependents never start", async () => {
    const yaml = `
services:
  web:
    image: bb
    depends_on: [app]
    command: ["sleep", "60"]
  app:
    image: bb
    command: ["sleep", "60"]
    post_start:
      - command: ["sh", "-c", "echo boom >&2; exit 3"]
`;
    const rec = recorder();
    const e = await Stack.fromCompose({ yaml, env: {}, projectName: `hookfail-${process.pid}`, images: { bb: busybox() } })
      .up({ timeoutMs: 30_000, onProgress: rec.onProgress })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ServiceStartupError);
    expect((e as ServiceStartupError).service).toBe("app");
    expect((e as Error).message).toMatch(/service app of stack hookfail-\d+.*services\.app\.post_start\[0\] \(sh -c echo boom >&2; exit 3\) exited with code 3:\n\s+boom/s);
    expect(rec.order("starting")).toEqual(["app"]);
  });

  it("a failed pre_stop hook is reported by down(), which still removes everything", async () => {
    const yaml = `
services:
  app:
    image: bb
    command: ["sleep", "60"]
    pre_stop:
      - command: ["sh", "-c", "exit 4"]
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `prestop-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    await expect(running.down({ timeoutMs: 1_000, onProgress: rec.onProgress })).rejects.toThrow(/down prestop-\d+: 1 step failed \(everything else was removed\):\n\s+services\.app\.pre_stop\[0\] \(sh -c exit 4\) exited with code 4/);
    expect(rec.order("removed")).toEqual(["app"]);
  });

  it("post_start runs again when a restart policy restarts the container", async () => {
    const yaml = `
services:
  flaky:
    image: bb
    restart: on-failure
    command:
      - sh
      - -c
      - |
        if [ -e /tmp/ran ]; then
          while [ "$$(wc -l < /tmp/hooks)" -lt 2 ]; do sleep 0.05; done
          echo hooks $$(wc -l < /tmp/hooks); exec sleep 30
        fi
        touch /tmp/ran; while [ ! -e /tmp/hooks ]; do sleep 0.05; done; echo first; exit 1
    post_start:
      - command: ["sh", "-c", "echo ran >> /tmp/hooks"]
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `hookrestart-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      for (let i = 0; i < 200 && !(await running.logs()).includes("hooks"); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await running.logs({ services: ["flaky"] })).toBe("flaky | first\nflaky | hooks 2\n");
      expect(running.restartCount("flaky")).toBe(1);
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });
});
