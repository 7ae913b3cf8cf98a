import { isRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Container, Image, StartupError, ContainerStateError, Store, type ContainerOptions, type RunningContainer } from "../../../src/index.js";
import { cgroupDriver } from "../../../src/runtime/cgroup/detect.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { expectRootlessLimitsError, onlyRootInContainers, unmappedUserError } from "../rootless.js";

const made: string[] = [];

async function start(command: string[], options: ContainerOptions = {}): Promise<RunningContainer> {
  const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command, ...options }).start();
  made.push(running.id);
  return running;
}

/** Runs a command to completion; returns its exit status and output, and removes the container. */
async function run(command: string[], options: ContainerOptions = {}) {
  const running = await start(command, options);
  const exit = await running.wait();
  const stdout = await running.logs({ stream: "stdout" });
  const stderr = await running.logs({ stream: "stderr" });
  await (await running.stop()).remove();
  return { ...exit, stdout, stderr };
}

const sh = (script: string) => ["sh", "-c", script];

/** Waits until the container's log contains `text`. */
async function runsAppendedText(running: RunningContainer, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await running.logs()).includes(text)) {
    if (Date.now() > deadline) throw new Error(`the container did not print "${text}" within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until the container's log holds `n` "appended" lines (each run appends one). */
async function runsAppended(running: RunningContainer, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await running.logs()).split("appended").length - 1 < n) {
    if (Date.now() > deadline) throw new Error(`the container did not append run ${n} within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

describe(`container isolation`, () => {
  it("runs bento's init as PID 1, and the payload sees only its own processes", async () => {
    const r = await run(sh("ps -o pid,comm; true"));
    const lines = r.stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
    expect(lines[0]).toEqual(["1", "bento-shim"]);
    expect(lines.map((l) => l[1])).toEqual(["bento-shim", "sh", "ps"]);
  });

  it("makes the payload PID 1 with init: false", async () => {
    const r = await run(sh("echo $$"), { init: false });
    expect(r.stdout).toBe("1\n");
  });

  it("has its own hostname: the id's first 12 characters, or the option", async () => {
    const running = await start(sh("hostname; cat /etc/hostname; sleep 5"));
    const { stdout } = await running.exec(["hostname"]);
    expect(stdout).toBe(`${running.id.slice(0, 12)}\n`);
    await (await running.stop({ timeoutMs: 1000 })).remove();
    expect((await run(["hostname"], { hostname: "db.test" })).stdout).toBe("db.test\n");
  });

  it("has only an up loopback interface", async () => {
    const r = await run(sh("ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags"));
    expect(r.stdout.split("\n")[0]).toBe("lo");
    expect(Number(r.stdout.split("\n")[2]) & 1).toBe(1); // IFF_UP
  });

  it("has its own mount table with an overlay root and none of the host's mounts", async () => {
    const r = await run(["cat", "/proc/self/mountinfo"]);
    const mounts = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    const root = mounts.find((m) => m[4] === "/")!;
    expect(root.slice(root.indexOf("-") + 1)[0]).toBe("overlay");
    expect(mounts.map((m) => m[4])).toEqual(expect.arrayContaining(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"]));
    const hostOnly = mounts.map((m) => m[4]!).filter((p) => !/^\/(proc|dev|sys|etc)(\/|$)/.test(p) && p !== "/");
    expect(hostOnly).toEqual([]);
  });

  it("masks Docker's /proc paths and makes /proc/sys read-only", async () => {
    // /proc/kcore, /proc/scsi... are absent on this kernel; timer_list, keys and acpi are here.
    const r = await run(sh("wc -c < /proc/timer_list; wc -c < /proc/keys; grep -c ' /proc/acpi .* ro,' /proc/self/mountinfo; echo 1 > /proc/sys/kernel/ns_last_pid || echo refused; ls /dev"));
    const [timerList, keys, acpiReadonly, refused] = r.stdout.split("\n");
    // The host's file has content (root may read it; a user only sees it exists).
    if (isRoot) expect(readFileSync("/proc/timer_list", "utf8").length).toBeGreaterThan(0);
    else expect(existsSync("/proc/timer_list")).toBe(true);
    expect(timerList!.trim()).toBe("0");
    expect(keys!.trim()).toBe("0");
    expect(acpiReadonly).toBe("1");
    expect(refused).toBe("refused");
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.stdout).toMatch(/null[\s\S]*ptmx[\s\S]*pts[\s\S]*shm[\s\S]*urandom/);
  });

  it("passes env, workdir and user, with Docker's defaults for PATH, HOME and HOSTNAME", async () => {
    if (onlyRootInContainers) {
      await expect(run(["id"], { user: "app" })).rejects.toThrow(unmappedUserError);
      await expect(run(["id", "-u"], { user: "4321:99" })).rejects.toThrow(unmappedUserError);
      const root = await run(sh('echo "$MODE|$HOME"; pwd; id -u'), { env: { MODE: "test" }, workdir: "/srv/app" });
      expect(root.stdout).toBe("test|/root\n/srv/app\n0\n");
      return;
    }
    const r = await run(sh('echo "$MODE|$HOME|$PATH"; pwd; id'), { env: { MODE: "test" }, workdir: "/srv/app", user: "app" });
    const [envLine, pwd, id] = r.stdout.trim().split("\n");
    expect(envLine).toBe("test|/home/app|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    expect(pwd).toBe("/srv/app");
    expect(id).toBe("uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)");
    expect((await run(["id", "-u"], { user: "4321:99" })).stdout).toBe("4321\n");
  });

  it("keeps Docker's default capabilities for root and none for other users", async () => {
    const root = await run(sh("grep CapEff /proc/self/status"));
    expect(root.stdout.trim()).toBe("CapEff:\t00000000a80425fb");
    if (onlyRootInContainers) await expect(run(sh("grep CapEff /proc/self/status"), { user: "app" })).rejects.toThrow(unmappedUserError);
    else expect((await run(sh("grep CapEff /proc/self/status"), { user: "app" })).stdout.trim()).toBe("CapEff:\t0000000000000000");
    const dropped = await run(sh("chown app /tmp && echo changed"), { capDrop: ["CHOWN"] });
    expect(dropped.exitCode).not.toBe(0);
  });

  it("reports exit codes and signals", async () => {
    expect((await run(sh("exit 3"))).exitCode).toBe(3);
    const killed = await run(sh("kill -KILL $$"));
    expect(killed).toMatchObject({ exitCode: 137, signal: "SIGKILL", oomKilled: false });
  });

  it("reaps zombies", async () => {
    const r = await run(sh("for i in 1 2 3 4 5; do (sleep 0.05 &); done; sleep 0.5; ps -o stat,comm"));
    expect(r.stdout).not.toMatch(/^\s*Z/m);
    expect(r.exitCode).toBe(0);
  });

  it("stops with SIGTERM, forwarded by init, and kills a payload that ignores it after the timeout", async () => {
    const polite = await start(["sleep", "100"]);
    const t0 = Date.now();
    const stopped = await polite.stop({ timeoutMs: 5000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(stopped.signal).toBe("SIGTERM");
    await stopped.remove();

    const stubborn = await start(sh("trap '' TERM; echo ready; while true; do sleep 0.1; done"));
    for await (const line of stubborn.followLogs()) if (line.text === "ready\n") break;
    const t1 = Date.now();
    const killed = await stubborn.stop({ timeoutMs: 400 });
    expect(Date.now() - t1).toBeGreaterThanOrEqual(400);
    expect(killed.exitCode).toBe(137);
    await killed.remove();
  });

  it("uses the stopSignal option", async () => {
    const running = await start(sh("trap 'echo got INT; exit 7' INT; while true; do sleep 0.1; done"), { stopSignal: "SIGINT" });
    await new Promise((r) => setTimeout(r, 200));
    const stopped = await running.stop({ timeoutMs: 5000 });
    expect(stopped.exitCode).toBe(7);
    expect(await stopped.logs()).toBe("got INT\n");
    await stopped.remove();
  });

  it("makes the root filesystem read-only when asked", async () => {
    const r = await run(sh("touch /file 2>&1; touch /tmp/x 2>&1; echo done"), { readonlyRootfs: true, mounts: [{ tmpfs: "/tmp" }] });
    expect(r.stdout).toMatch(/Read-only file system/);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("gives a tmpfs to the image's user named as its owner, and names an owner the image lacks", async () => {
    const scratch = (owner: string) => ({ mounts: [{ tmpfs: "/scratch", owner, mode: 0o700 }] });
    await expect(run(["true"], scratch("nobody-here"))).rejects.toThrow(/mounts \(tmpfs \/scratch\)\.owner: no user "nobody-here" in the image's \/etc\/passwd/);
    expect(() => new Container(Image.fromRootfs(busyboxRootfs()), scratch("a:b:c"))).toThrow(/mounts\[0\]\.owner: "a:b:c" must be "user" or "user:group"/);
    if (onlyRootInContainers) return void (await expect(run(["true"], scratch("app"))).rejects.toThrow(unmappedUserError));
    const r = await run(sh("stat -c '%u:%g %a' /scratch && touch /scratch/file && echo written"), { user: "app", ...scratch("app") });
    expect(r.stdout).toBe("1000:1000 700\nwritten\n");
  });
});

describe(`cgroup limits`, () => {
  it("ends a container over its memory limit with oomKilled: true", async () => {
    if (!isRoot) return expectRootlessLimitsError(start(["true"], { resources: { memory: "16m" } }));
    const r = await run(["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"], { resources: { memory: "16m" } });
    expect(r).toMatchObject({ exitCode: 137, oomKilled: true });
  });

  it("reports stats of a container without limits (from /proc on hybrid hosts, where it has no v1 cgroups)", async () => {
    const running = await start(sh("sleep 30 & sleep 30"));
    const deadline = Date.now() + 10_000;
    while ((await running.stats()).pids < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const stats = await running.stats();
    expect(stats.pids).toBe(3); // init, sh, sleep
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect(stats.memoryPeakBytes).toBeGreaterThanOrEqual(stats.memoryBytes);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it("stops a fork loop at the pids limit", async () => {
    if (!isRoot) return expectRootlessLimitsError(start(["true"], { resources: { pids: 10 } }));
    const r = await run(sh("for i in $(seq 1 40); do sleep 2 & done 2>/dev/null; echo started $(jobs -p | wc -l); ls /proc | grep -c '^[0-9]'"), { resources: { pids: 10 } });
    const count = Number(r.stdout.trim().split("\n").pop());
    expect(count).toBeLessThanOrEqual(10);
  });

  it("writes the cpu quota, memory and pids limits into the container's cgroups", async () => {
    if (!isRoot) return expectRootlessLimitsError(start(["sleep", "30"], { resources: { cpus: 0.5, memory: "64m", pids: 50, cpuShares: 512 } }));
    const running = await start(["sleep", "30"], { resources: { cpus: 0.5, memory: "64m", pids: 50, cpuShares: 512 } });
    const paths = cgroupDriver().paths(running.id);
    const read = (controller: string, file: string) => readFileSync(join(paths.find((p) => p.includes(`/${controller}/`))!, file), "utf8").trim();
    if (cgroupDriver().version === "v1") {
      expect(read("cpu", "cpu.cfs_quota_us")).toBe("50000");
      expect(read("cpu", "cpu.cfs_period_us")).toBe("100000");
      expect(read("cpu", "cpu.shares")).toBe("512");
      expect(read("memory", "memory.limit_in_bytes")).toBe(String(64 * 1024 * 1024));
      expect(read("pids", "pids.max")).toBe("50");
    } else {
      expect(readFileSync(join(paths[0]!, "cpu.max"), "utf8").trim()).toBe("50000 100000");
    }
    const stats = await running.stats();
    expect(stats.pids).toBeGreaterThanOrEqual(2);
    expect(stats.memoryBytes).toBeGreaterThan(0);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });
});

describe(`lifecycle`, () => {
  it("execs into a running container: its namespaces, cgroups, env and user", async () => {
    const running = await start(["sleep", "30"], { env: { FROM: "container" }, hostname: "inside" });
    const probe = ["sh", "-c", "hostname; echo $FROM $EXTRA; ps -o pid,comm | wc -l; cat /proc/self/cgroup | grep -c ':/$'; id -u"];
    if (onlyRootInContainers) await expect(running.exec(probe, { user: "app" })).rejects.toThrow(unmappedUserError);
    const r = await running.exec(probe, { env: { EXTRA: "x" }, ...(onlyRootInContainers ? {} : { user: "app" }) });
    expect(r.exitCode).toBe(0);
    const [host, env, procs, rootCgroups, uid] = r.stdout.trim().split("\n");
    expect(host).toBe("inside");
    expect(env).toBe("container x");
    expect(Number(procs)).toBeLessThanOrEqual(6);
    expect(Number(rootCgroups)).toBeGreaterThan(0);
    expect(uid).toBe(onlyRootInContainers ? "0" : "1000");
    expect(await running.exec(["sh", "-c", "echo err >&2; exit 4"])).toEqual({ exitCode: 4, stdout: "", stderr: "err\n" });
    await expect(running.exec(["/no/such/binary"])).rejects.toMatchObject({ code: "ENOENT", syscall: "execve" });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    expect((await running.exec(["sleep", "30"], { signal: abort.signal })).exitCode).toBe(137);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it("keeps logs after exit, split by stream, with timestamps, tail and follow", async () => {
    const running = await start(sh("echo one; echo two >&2; printf partial"));
    const lines: string[] = [];
    for await (const line of running.followLogs()) lines.push(`${line.stream}:${line.text}`);
    expect(lines).toEqual(["stdout:one\n", "stderr:two\n", "stdout:partial"]);
    await running.wait();
    const stopped = await running.stop();
    expect(await stopped.logs()).toBe("one\ntwo\npartial");
    expect(await stopped.logs({ stream: "stderr" })).toBe("two\n");
    expect(await stopped.logs({ tail: 1 })).toBe("partial");
    expect(await stopped.logs({ timestamps: true })).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n/);
    await stopped.remove();
  });

  it("restart keeps the container's files and id; remove deletes them", async () => {
    const running = await start(sh("echo $(date +%s%N) >> /data/runs; echo appended; sleep 30"));
    await runsAppended(running, 1);
    const id = running.id;
    await running.restart({ timeoutMs: 1000 });
    await runsAppended(running, 2);
    const { stdout } = await running.exec(["cat", "/data/runs"]);
    expect(stdout.trim().split("\n")).toHaveLength(2);
    expect(running.id).toBe(id);
    const stopped = await running.stop({ timeoutMs: 1000 });
    const again = await stopped.start();
    await runsAppended(again, 3);
    expect((await again.exec(["wc", "-l", "/data/runs"])).stdout).toMatch(/^3 /);
    const last = await again.stop({ timeoutMs: 1000 });
    await last.remove();
    expect(leftovers([id])).toEqual([]);
    await expect(last.start()).rejects.toBeInstanceOf(ContainerStateError);
    await expect(last.logs()).rejects.toThrow(/removed/);
    expect(readFileSync(join(busyboxRootfs(), "etc/passwd"), "utf8")).not.toContain("runs");
  });

  it("commits a container's changes as an image that runs", async () => {
    const running = await start(sh("echo seeded > /data/state; echo done; sleep 30"), { env: { FROM_COMMIT: "yes" } });
    await runsAppendedText(running, "done");
    const tag = `bento-test/committed:${process.pid}`;
    const { id } = await running.commit({ tag });
    await (await running.stop({ timeoutMs: 1000 })).remove();
    const again = await new Container(Image.from(tag), { command: ["cat", "/data/state"] }).start();
    made.push(again.id);
    expect((await again.wait()).exitCode).toBe(0);
    expect(await again.logs()).toBe("seeded\n");
    await (await again.stop()).remove();
    await Store.default().removeImage(id, { force: true });
  });

  it("pauses a running container while it commits (docker commit --pause), and it runs on after", async () => {
    // A busy loop whose CPU time stops while frozen; 48 MB of noise keep the commit busy for seconds.
    const running = await start(sh("head -c 50331648 /dev/urandom > /data/noise; echo ready; while :; do :; done"));
    await runsAppendedText(running, "ready");
    const pausable = cgroupDriver().paths(running.id).length > 0;
    let committed = false;
    const commit = running.commit({ tag: `bento-test/paused:${process.pid}` }).finally(() => {
      committed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    const before = (await running.stats()).cpuUsageNs;
    await new Promise((r) => setTimeout(r, 300));
    const after = (await running.stats()).cpuUsageNs;
    expect(committed, "the commit ended before the container's CPU time was sampled twice").toBe(false);
    // Rootless without a delegated cgroup it cannot be paused: committed running.
    if (pausable) expect(after).toBe(before);
    else expect(after).toBeGreaterThan(before);
    const { id } = await commit;
    const t0 = (await running.stats()).cpuUsageNs;
    await new Promise((r) => setTimeout(r, 200));
    expect((await running.stats()).cpuUsageNs).toBeGreaterThan(t0);
    await (await running.stop({ timeoutMs: 0 })).remove();
    await Store.default().removeImage(id, { force: true });
  });

  it("inspect reports state, process and limits", async () => {
    // Rootless without a delegated cgroup subtree there are no limits (asserted above).
    const running = await start(["sleep", "30"], { labels: { team: "qa" }, resources: isRoot ? { memory: "32m" } : {} });
    const info = await running.inspect();
    expect(info).toMatchObject({ id: running.id, name: running.name, labels: { team: "qa" }, limits: isRoot ? { memoryBytes: 32 * 1024 * 1024 } : {}, state: { status: "running", pid: running.pid } });
    const stopped = await running.stop({ timeoutMs: 1000 });
    expect((await stopped.inspect()).state).toMatchObject({ status: "exited", exitCode: 143, signal: "SIGTERM" });
    await stopped.remove();
  });

  it("disposes with await using", async () => {
    let id = "";
    {
      await using running = await start(["sleep", "30"]);
      id = running.id;
    }
    expect(leftovers([id])).toEqual([]);
  });

  it("lists the machine's containers through the store", async () => {
    const running = await start(["sleep", "30"], { name: `listed-${process.pid}` });
    const listed = (await Store.default().containers()).find((c) => c.id === running.id);
    expect(listed).toMatchObject({ name: `listed-${process.pid}`, status: "running", ownerPid: process.pid, ownerAlive: true });
    await (await running.stop({ timeoutMs: 1000 })).remove();
    expect((await Store.default().containers()).some((c) => c.id === running.id)).toBe(false);
  });

  it("enforces unique names", async () => {
    const a = await start(["sleep", "30"], { name: "unique-web" });
    await expect(start(["true"], { name: "unique-web" })).rejects.toThrow(/already used/);
    await (await a.stop({ timeoutMs: 1000 })).remove();
    await (await (await start(["true"], { name: "unique-web" })).stop()).remove();
  });
});

describe(`bad input`, () => {
  it("rejects bad options before creating anything", () => {
    const image = Image.fromRootfs(busyboxRootfs());
    expect(() => new Container(image, { resources: { memory: "-1" } })).toThrow(/resources.memory/);
    expect(() => new Container(image, { resources: { cpus: -2 } })).toThrow(/resources.cpus/);
    expect(() => new Container(image, { resources: { pids: 0 } })).toThrow(/resources.pids/);
    expect(() => new Container(image, { name: "bad name!" })).toThrow(/name/);
    expect(() => new Container(image, { stopSignal: "SIGNOPE" })).toThrow(/stopSignal/);
    expect(() => new Container(image, { workdir: "relative" })).toThrow(/workdir/);
  });

  it("names an unknown user, a missing rootfs and a missing command, leaving nothing behind", async () => {
    const before = new Set(readdirSafe(join(process.env.BENTO_HOME!, "containers")));
    await expect(start(["true"], { user: "ghost" })).rejects.toThrow(/no user "ghost"/);
    await expect(new Container(Image.fromRootfs("/no/such/rootfs"), { command: ["true"] }).start()).rejects.toThrow(/\/no\/such\/rootfs/);
    const error = await start(["/bin/nothing-here"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect(error).toMatchObject({ phase: "exec", cause: { code: "ENOENT", syscall: "execve", path: "/bin/nothing-here" } });
    expect((error as Error).message).toMatch(/exec failed.*execve "\/bin\/nothing-here": ENOENT/s);
    expect(readdirSafe(join(process.env.BENTO_HOME!, "containers")).filter((d) => !before.has(d))).toEqual([]);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
