import { isRoot, testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { doctor } from "../../../src/runtime/doctor.js";
import { listMachineContainers } from "../../../src/runtime/machine-containers.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { bento } from "./helpers.js";

const made: string[] = [];

afterEach(() => {
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids)]).toEqual([]);
  expect(listMachineContainers()).toEqual([]);
});

/**
 * Limits need cgroups bento may write: root's, or rootless a delegated cgroup v2 subtree. Where
 * bento doctor reports none, asking for them fails with its fix (exit 125) and starts nothing.
 */
async function limitsFix(): Promise<string | undefined> {
  const cgroups = (await doctor()).checks.find((c) => c.name === "cgroups")!;
  return cgroups.status === "ok" ? undefined : cgroups.fix;
}

describe("bento run's docker flags", () => {
  it("--tmpfs uid= and gid= own the mount, as docker's; a bad option is named", async () => {
    const owned = await bento(["run", "--rm", "--tmpfs", "/owned:uid=1000,gid=1000,mode=700", busyboxRootfs(), "stat", "-c", "%u:%g %a", "/owned"]);
    if (onlyRootInContainers) expect(owned).toMatchObject({ code: 125, stderr: expect.stringMatching(unmappedUserError) });
    else expect(owned).toMatchObject({ code: 0, stdout: "1000:1000 700\n", stderr: "" });
    const bad = await bento(["run", "--rm", "--tmpfs", "/owned:uid=me", busyboxRootfs(), "true"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--tmpfs "\/owned:uid=me": "uid=me" is not understood; use size=64m, mode=1777, uid=1000, gid=1000, ro or rw/);
  });

  it("--env-file, --entrypoint, --read-only, --tmpfs, --cap-drop, -m, --cpus, --pids-limit and --label reach the container", async () => {
    const fix = await limitsFix();
    const dir = mkdtempSync(join(testRoot, "run-flags-"));
    writeFileSync(join(dir, "app.env"), "# the app's settings\nFROM_FILE=file\nBOTH=file\nHOME_FROM_HERE\n");
    const script = [
      'echo "$FROM_FILE $BOTH $HOME_FROM_HERE"',
      "touch /nope 2>/dev/null && echo rootfs-writable || echo rootfs-read-only",
      "touch /scratch/yes && echo tmpfs-writable",
      "grep -q ' /scratch tmpfs .*size=16384k' /proc/mounts && echo tmpfs-16m",
      "grep CapEff /proc/self/status",
    ].join("; ");
    const r = await bento(
      [
        "run",
        "--env-file",
        join(dir, "app.env"),
        "-e",
        "BOTH=flag",
        "--entrypoint",
        "sh",
        "--read-only",
        "--tmpfs",
        "/scratch:size=16m",
        "--cap-drop",
        "ALL",
        ...(fix === undefined ? ["-m", "64m", "--cpus", "0.5", "--pids-limit", "50"] : []),
        "-l",
        "team=db",
        "--label",
        "tier",
        busyboxRootfs(),
        "-c",
        script,
      ],
      { env: { HOME_FROM_HERE: "here" } },
    );
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe("file flag here\nrootfs-read-only\ntmpfs-writable\ntmpfs-16m\nCapEff:\t0000000000000000\n");
    if (fix !== undefined) {
      const limited = await bento(["run", "-m", "64m", busyboxRootfs(), "true"]);
      expect(limited.code).toBe(125);
      expect(limited.stderr).toContain(fix);
    }
  }, 60_000);

  // Not "--env-file /no/such/file": Node 20 itself reads an --env-file anywhere on its command
  // line (a Node bug) and exits 9 before bento runs.
  it("limits and labels show in inspect; bad values are usage errors (125) that start nothing", async () => {
    const fix = await limitsFix();
    const started = await bento(["run", "-d", "--name", "flags", "-m", "64m", "--cpus", "0.5", "--pids-limit", "50", "-l", "team=db", busyboxRootfs(), "sleep", "1000"]);
    if (fix === undefined) {
      expect(started.code).toBe(0);
      made.push(started.stdout.trim());
      expect((await bento(["inspect", "-f", '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{index .Config.Labels "team"}}', "flags"])).stdout).toBe("67108864 500000000 50 db\n");
      expect(await bento(["rm", "-f", "flags"])).toMatchObject({ code: 0 });
    } else {
      expect(started).toMatchObject({ code: 125, stdout: "" });
      expect(started.stderr).toContain(fix);
    }
    for (const args of [
      ["--cpus", "lots"],
      ["--pids-limit", "1.5"],
      ["--tmpfs", "/x:bogus"],
      ["--network", "bridge"],
    ]) {
      const r = await bento(["run", ...args, busyboxRootfs(), "true"]);
      expect({ args, code: r.code }).toEqual({ args, code: 125 });
      expect(r.stderr).toMatch(/^bento: .*\n\nUsage: bento run/);
    }
  }, 120_000);

  it("--network slirp4netns and --network pasta give a route out with the helper's DNS forwarder; -d with one is refused (125)", async () => {
    const tunOpen = isRoot || (statSync("/dev/net/tun").mode & 0o006) === 0o006;
    for (const network of ["slirp4netns", "pasta"]) {
      const r = await bento(["run", "--network", network, busyboxRootfs(), "sh", "-c", "ip route | grep default; cat /etc/resolv.conf"]);
      if (tunOpen) expect({ network, ...r }).toEqual({ network, code: 0, signal: null, stdout: "default via 10.0.2.2 dev tap0 \nnameserver 10.0.2.3\n", stderr: "" });
      else expect({ network, code: r.code, tun: r.stderr.includes("/dev/net/tun") }).toEqual({ network, code: 125, tun: true });
      const detached = await bento(["run", "-d", "--network", network, busyboxRootfs(), "true"]);
      expect(detached).toMatchObject({ code: 125, stdout: "" });
    }
  }, 60_000);

  it("--hostname, --add-host, --dns*, --ulimit, --sysctl, --shm-size and --device reach the container", async () => {
    const script = [
      "hostname",
      "grep -w db /etc/hosts",
      "cat /etc/resolv.conf",
      'echo "nofile $(ulimit -n) $(ulimit -Hn)"',
      "cat /proc/sys/net/core/somaxconn",
      "df -k /dev/shm | tail -n 1 | awk '{ print \"shm \" $2 }'",
      "head -c 3 /dev/myzero | od -An -tx1",
    ].join("; ");
    const r = await bento([
      "run",
      "--hostname",
      "web1",
      "--add-host",
      "db:10.1.2.3",
      "--dns",
      "10.0.0.53",
      "--dns-search",
      "corp.example",
      "--dns-option",
      "ndots:2",
      "--ulimit",
      "nofile=512:1024",
      "--sysctl",
      "net.core.somaxconn=321",
      "--shm-size",
      "8m",
      "--device",
      "/dev/zero:/dev/myzero",
      busyboxRootfs(),
      "sh",
      "-c",
      script,
    ]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("web1");
    expect(lines[1]).toMatch(/^10\.1\.2\.3\s+db$/);
    expect(r.stdout).toContain("nameserver 10.0.0.53\n");
    expect(r.stdout).toMatch(/^search corp\.example$/m);
    expect(r.stdout).toMatch(/^options ndots:2$/m);
    expect(r.stdout).toContain("nofile 512 1024\n321\nshm 8192\n 00 00 00\n");
  }, 60_000);

  it("--privileged gives every capability of the bounding set and no seccomp filter", async () => {
    const status = async (flags: string[]) => (await bento(["run", ...flags, busyboxRootfs(), "grep", "-E", "^(CapEff|CapBnd|Seccomp):", "/proc/self/status"])).stdout;
    const privileged = Object.fromEntries(
      (await status(["--privileged"]))
        .trim()
        .split("\n")
        .map((l) => l.split(":\t")),
    );
    expect(privileged.CapEff).toBe(privileged.CapBnd);
    expect(privileged.CapEff).not.toMatch(/^0+$/);
    expect(privileged.Seccomp).toBe("0");
    expect(await status([])).toContain("Seccomp:\t2\n");
  }, 60_000);

  it("bento exec --env-file and --privileged", async () => {
    const dir = mkdtempSync(join(testRoot, "exec-flags-"));
    writeFileSync(join(dir, "exec.env"), "# for the exec\nFROM_FILE=file\nBOTH=file\n");
    const started = await bento(["run", "-d", "--name", "execflags", busyboxRootfs(), "sleep", "1000"]);
    expect(started.code).toBe(0);
    made.push(started.stdout.trim());
    const env = await bento(["exec", "--env-file", join(dir, "exec.env"), "-e", "BOTH=flag", "execflags", "sh", "-c", 'echo "$FROM_FILE $BOTH"']);
    expect(env).toMatchObject({ code: 0, stdout: "file flag\n" });
    const status = async (flags: string[]) => (await bento(["exec", ...flags, "execflags", "grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status"])).stdout;
    expect(await status([])).toMatch(/^CapEff:\t00000000a80425fb\nSeccomp:\t2\n$/);
    const privileged = await status(["--privileged"]);
    expect(privileged).toMatch(/\nSeccomp:\t0\n$/);
    // CAP_SYS_ADMIN (21), which the default set lacks.
    expect(BigInt(`0x${/^CapEff:\t([0-9a-f]+)/.exec(privileged)![1]}`) & (1n << 21n)).toBe(1n << 21n);
    expect(await bento(["rm", "-f", "execflags"])).toMatchObject({ code: 0 });
  }, 60_000);

  it("--stop-signal and --stop-timeout are what bento stop uses, from another process", async () => {
    const started = await bento(["run", "-d", "--name", "stopsig", "--stop-signal", "SIGUSR1", "--stop-timeout", "30", busyboxRootfs(), "sh", "-c", 'trap "echo got-usr1; exit 3" USR1; echo ready; while :; do sleep 0.1; done']);
    expect(started.code).toBe(0);
    made.push(started.stdout.trim());
    while (!(await bento(["logs", "stopsig"])).stdout.includes("ready")) await new Promise((r) => setTimeout(r, 50));
    expect(await bento(["stop", "stopsig"])).toMatchObject({ code: 0 });
    expect((await bento(["inspect", "-f", "{{.State.ExitCode}} {{.Config.StopSignal}}", "stopsig"])).stdout).toBe("3 SIGUSR1\n");
    expect((await bento(["logs", "stopsig"])).stdout).toBe("ready\ngot-usr1\n");
    expect(await bento(["rm", "stopsig"])).toMatchObject({ code: 0 });
    for (const args of [
      ["--ulimit", "nofile"],
      ["--ulimit", "nofile=lots"],
      ["--add-host", "nohost"],
      ["--sysctl", "net.core.somaxconn"],
      ["--stop-timeout", "1.5"],
      ["--device", "/dev/no-such-device"],
    ]) {
      const r = await bento(["run", ...args, busyboxRootfs(), "true"]);
      expect({ args, code: r.code }).toEqual({ args, code: 125 });
      expect(r.stderr).toContain(args[0] === "--device" ? "/dev/no-such-device" : args[1]);
    }
    // Fourteen CLI processes or more, each a Node start: 44 s in a CI run on a loaded 2-CPU machine.
  }, 150_000);
});
