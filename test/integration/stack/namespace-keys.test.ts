import "../setup-env.js";
import { describe, expect, it } from "vitest";
import { accessSync, constants, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Stack } from "../../../src/stack/stack.js";
import { busybox, checkNothingLeaks, privilegedCapabilities, recorder } from "./stack-checks.js";

checkNothingLeaks();

/**
 * What opening host device nodes inside a container gives: they open when this user may open
 * them on the host. Root always may; rootless, a node the host keeps at 0600 (as /dev/fuse and
 * /dev/net/tun are on a machine without udev's rules) stays closed to the user in a container too.
 */
function openedAs(paths: string[]): RegExp {
  const mayOpen = paths.every((p) => {
    try {
      accessSync(p, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
  return mayOpen ? /^opened$/ : /Permission denied/;
}

describe(`compose namespace keys`, () => {
  it("network_mode: service:x enters x's network namespace: the sidecar, listed first, reaches x's listener on 127.0.0.1", async () => {
    const yaml = `
services:
  sidecar:
    image: bb
    network_mode: service:app
    depends_on: { app: { condition: service_healthy } }
    command: ["sh", "-c", "wget -qO- http://127.0.0.1:8080/ > /tmp/fetching; mv /tmp/fetching /tmp/seen; exec sleep 60"]
  app:
    image: bb
    command: ["probe", "http", "8080", "from-app"]
    healthcheck: { test: "wget -qO- http://127.0.0.1:8080/", interval: 100ms, retries: 100 }
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `netshare-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const sidecar = running.service("sidecar");
      const app = running.service("app");
      expect(rec.order("started")).toEqual(["app", "sidecar"]);
      // What the sidecar's command fetched as it started (it renames the file once wget ended).
      expect((await sidecar.exec(["sh", "-c", "while [ ! -e /tmp/seen ]; do sleep 0.05; done; cat /tmp/seen"])).stdout).toBe("from-app");
      expect(await sidecar.exec(["wget", "-qO-", "http://127.0.0.1:8080/"])).toMatchObject({ stdout: "from-app", exitCode: 0 });
      // One namespace: the same interfaces, hostname and /etc/hosts.
      const netns = (c: typeof app) => readFileSync(`/proc/${c.pid}/net/dev`, "utf8");
      expect(netns(sidecar)).toBe(netns(app));
      expect(statSync(`/proc/${sidecar.pid}/ns/net`).ino).toBe(statSync(`/proc/${app.pid}/ns/net`).ino);
      expect((await sidecar.exec(["hostname"])).stdout).toBe((await app.exec(["hostname"])).stdout);
      expect((await sidecar.exec(["cat", "/etc/hosts"])).stdout).toBe((await app.exec(["cat", "/etc/hosts"])).stdout);
    } finally {
      await running.down({ timeoutMs: 1_000, onProgress: rec.onProgress });
    }
    // The sidecar leaves the namespace before its owner stops.
    expect(rec.order("stopped")).toEqual(["sidecar", "app"]);
  });

  it("privileged: true gives every capability, no seccomp filter, the host's devices and unmasked /proc and /sys", async () => {
    const yaml = `
services:
  fixture:
    image: bb
    privileged: true
    cap_drop: [ALL]
    command: ["sleep", "60"]
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `privileged-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const fixture = running.service("fixture");
      const out = async (script: string) => (await fixture.exec(["sh", "-c", script])).stdout.trim();
      const bounding = privilegedCapabilities();
      // The main process itself, not only an exec.
      const status = readFileSync(`/proc/${fixture.pid}/status`, "utf8");
      expect(/^CapEff:\s*(\S+)$/m.exec(status)![1]).toBe(bounding);
      expect(status).toMatch(/^Seccomp:\s*0$/m);
      expect(await out("grep -E '^(CapEff|Seccomp):' /proc/self/status")).toBe(`CapEff:\t${bounding}\nSeccomp:\t0`);
      const fuse = statSync("/dev/fuse").rdev;
      expect(await out("stat -c '%t:%T' /dev/fuse")).toBe(`${(fuse >> 8).toString(16)}:${(fuse & 0xff).toString(16)}`);
      expect(await out("(exec 3<>/dev/fuse && echo opened) 2>&1")).toMatch(openedAs(["/dev/fuse"]));
      expect(await out("awk '$5 == \"/sys\" { print $6 }' /proc/self/mountinfo")).toMatch(/^rw,/);
      expect(await out("awk '$5 ~ /^\\/proc\\// { print $5 }' /proc/self/mountinfo")).toBe("");
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });

  it("devices: the nodes appear with the host's major:minor and can be opened; other devices stay refused", async () => {
    const yaml = `
services:
  fuse:
    image: bb
    devices: ["/dev/fuse", "/dev/net/tun:/dev/tun:rwm"]
    command: ["sleep", "60"]
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `devices-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const out = async (script: string) => {
        const r = await running.service("fuse").exec(["sh", "-c", script]);
        return (r.stdout + r.stderr).trim();
      };
      const hex = (path: string) => `${(statSync(path).rdev >> 8).toString(16)}:${(statSync(path).rdev & 0xff).toString(16)}`;
      expect(await out("stat -c '%F %t:%T' /dev/fuse /dev/tun")).toBe(`character special file ${hex("/dev/fuse")}\ncharacter special file ${hex("/dev/net/tun")}`);
      expect(await out("exec 3<>/dev/fuse && exec 4<>/dev/tun && echo opened")).toMatch(openedAs(["/dev/fuse", "/dev/net/tun"]));
      expect(await out("test -e /dev/net/tun || echo 'no /dev/net/tun'")).toBe("no /dev/net/tun");
      // The policy allows these two, not every device.
      expect(await out("mknod /dev/loop0 b 7 0 && head -c 1 /dev/loop0 >/dev/null || echo refused")).toMatch(/^refused\n.*(Permission denied|Operation not permitted)/);
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });

  it("pid and ipc: service:x share x's processes, IPC namespace and /dev/shm; host shares the host's", async () => {
    const marker = `/dev/shm/bento-ipc-host-${process.pid}`;
    writeFileSync(marker, "from the host");
    const yaml = `
services:
  debug:
    image: bb
    pid: service:app
    ipc: service:app
    command: ["sleep", "60"]
  app:
    image: bb
    ipc: shareable
    command: ["sh", "-c", "echo from-app > /dev/shm/marker; exec sleep 4321"]
  hosty:
    image: bb
    pid: host
    ipc: host
    command: ["sleep", "60"]
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `pidipc-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const [debug, app, hosty] = [running.service("debug"), running.service("app"), running.service("hosty")];
      const out = async (c: typeof app, script: string) => (await c.exec(["sh", "-c", script])).stdout.trim();
      const ns = (pid: number | undefined, kind: string) => statSync(`/proc/${pid}/ns/${kind}`).ino;
      expect(rec.order("started").indexOf("app")).toBeLessThan(rec.order("started").indexOf("debug"));
      expect(await out(debug, "ps -o args | grep -c '^sleep 4321'")).toBe("1");
      expect(ns(debug.pid, "pid")).toBe(ns(app.pid, "pid"));
      expect(ns(debug.pid, "ipc")).toBe(ns(app.pid, "ipc"));
      expect(await out(debug, "while [ ! -s /dev/shm/marker ]; do sleep 0.05; done; cat /dev/shm/marker")).toBe("from-app");
      // Its own network and mounts all the same.
      expect(ns(debug.pid, "net")).not.toBe(ns(app.pid, "net"));
      expect(await out(hosty, `cat /proc/${process.pid}/comm`)).toBe(readFileSync("/proc/self/comm", "utf8").trim());
      expect(ns(hosty.pid, "pid")).toBe(statSync("/proc/self/ns/pid").ino);
      expect(ns(hosty.pid, "ipc")).toBe(statSync("/proc/self/ns/ipc").ino);
      expect(await out(hosty, `cat ${marker}`)).toBe("from the host");
    } finally {
      rmSync(marker, { force: true });
      await running.down({ timeoutMs: 1_000 });
    }
  });
});
