import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { driverForMounts, parseCgroupMounts } from "../../../src/runtime/cgroup/detect.js";
import { CgroupV1Driver } from "../../../src/runtime/cgroup/v1.js";
import { CgroupV2Driver, blkioToIoWeight, sharesToWeight } from "../../../src/runtime/cgroup/v2.js";
import { scratchDir } from "../scratch.js";

const hybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const unified = "30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
const comounted = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";

describe("cgroup detection", () => {
  it("parses cgroup mounts from mountinfo", () => {
    const mounts = parseCgroupMounts(hybrid);
    expect(mounts.map((m) => m.mountPoint)).toEqual(["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"]);
    expect(mounts[0]!.controllers).toContain("cpu");
  });

  it("picks v1 plus the unified hierarchy on a hybrid host, v2 on a unified one", () => {
    const v1 = driverForMounts(parseCgroupMounts(hybrid), () => "");
    expect(v1.version).toBe("v1");
    expect(v1.paths("x")).toContain("/sys/fs/cgroup/unified/bento-x");
    const v2 = driverForMounts(parseCgroupMounts(unified), () => "cpuset cpu io memory pids\n");
    expect(v2.version).toBe("v2");
    expect(v2.paths("x")).toEqual(["/sys/fs/cgroup/bento-x"]);
  });

  it("uses only the unified hierarchy of a hybrid host when v2 is chosen, and v1 when asked", () => {
    const v2 = driverForMounts(parseCgroupMounts(hybrid), () => "", "v2");
    expect(v2.version).toBe("v2");
    expect(v2.paths("x")).toEqual(["/sys/fs/cgroup/unified/bento-x"]);
    expect(driverForMounts(parseCgroupMounts(unified + hybrid.split("\n").slice(1).join("\n")), () => "", "v1").version).toBe("v1");
  });

  it("handles co-mounted cpu,cpuacct as one directory", () => {
    const d = driverForMounts(parseCgroupMounts(comounted), () => "");
    expect(d.paths("x")).toEqual(["/sys/fs/cgroup/cpu,cpuacct/bento-x"]);
  });

  it("refuses a host without cgroups, naming the fix", () => {
    expect(() => driverForMounts([], () => "")).toThrow(/mount cgroup2 on \/sys\/fs\/cgroup/);
  });
});

describe("cgroup v1 driver", () => {
  const driver = new CgroupV1Driver(
    new Map([
      ["memory", "/cg/memory"],
      ["cpu", "/cg/cpu"],
      ["pids", "/cg/pids"],
      ["freezer", "/cg/freezer"],
      ["blkio", "/cg/blkio"],
    ]),
    "/cg/unified",
  );

  it("creates one group per hierarchy, writes the limits, and clones into the unified group", () => {
    const setup = driver.setup("abc", { memoryBytes: 1 << 26, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, pidsMax: 20 });
    expect(setup.hostOps).toEqual([
      ["mkdir", "/cg/memory/bento-abc", "493"],
      ["mkdir", "/cg/cpu/bento-abc", "493"],
      ["mkdir", "/cg/pids/bento-abc", "493"],
      ["mkdir", "/cg/freezer/bento-abc", "493"],
      ["mkdir", "/cg/unified/bento-abc", "493"],
      ["write", "/cg/memory/bento-abc/memory.limit_in_bytes", String(1 << 26)],
      ["write", "/cg/cpu/bento-abc/cpu.cfs_period_us", "100000"],
      ["write", "/cg/cpu/bento-abc/cpu.cfs_quota_us", "50000"],
      ["write", "/cg/pids/bento-abc/pids.max", "20"],
    ]);
    expect(setup.cloneInto).toBe("/cg/unified/bento-abc");
    expect(setup.procsFiles).toEqual(["/cg/memory/bento-abc/cgroup.procs", "/cg/cpu/bento-abc/cgroup.procs", "/cg/pids/bento-abc/cgroup.procs", "/cg/freezer/bento-abc/cgroup.procs"]);
  });

  it("puts a container without limits only in its unified group on a hybrid host (no v1 migration)", () => {
    expect(driver.setup("abc", {})).toEqual({ hostOps: [["mkdir", "/cg/unified/bento-abc", "493"]], procsFiles: [], cloneInto: "/cg/unified/bento-abc" });
    const v1Only = new CgroupV1Driver(new Map([["memory", "/cg/memory"]]), undefined);
    expect(v1Only.setup("abc", {}).procsFiles).toEqual(["/cg/memory/bento-abc/cgroup.procs"]);
  });

  it("holds the device policy in the devices controller on a pure v1 host only (a hybrid host's BPF program holds it there)", () => {
    const mounts = new Map([
      ["memory", "/cg/memory"],
      ["devices", "/cg/devices"],
    ] as const);
    const pure = new CgroupV1Driver(new Map(mounts), undefined).setup("abc", {});
    expect(pure).toEqual({
      hostOps: [
        ["mkdir", "/cg/memory/bento-abc", "493"],
        ["mkdir", "/cg/devices/bento-abc", "493"],
      ],
      procsFiles: ["/cg/memory/bento-abc/cgroup.procs", "/cg/devices/bento-abc/cgroup.procs"],
      devicesV1: "/cg/devices/bento-abc",
    });
    const hybrid = new CgroupV1Driver(new Map(mounts), "/cg/unified").setup("abc", { memoryBytes: 1 << 26 });
    expect(hybrid.devicesV1).toBeUndefined();
    expect(hybrid.procsFiles).toEqual(["/cg/memory/bento-abc/cgroup.procs"]);
  });

  it("joins blkio only for an IO weight", () => {
    const setup = driver.setup("abc", { ioWeight: 500 });
    expect(setup.hostOps).toContainEqual(["write", "/cg/blkio/bento-abc/blkio.weight", "500"]);
  });
});

describe("cgroup v2 driver", () => {
  it("enables the controllers it needs and writes v2 limit files", () => {
    const driver = new CgroupV2Driver("/cg", new Set(["cpu", "memory", "pids", "io"]));
    const setup = driver.setup("abc", { memoryBytes: 1 << 26, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, cpuShares: 1024, pidsMax: 20, ioWeight: 500 });
    expect(setup).toEqual({
      hostOps: [
        ["write", "/cg/cgroup.subtree_control", "+memory +cpu +pids +io"],
        ["mkdir", "/cg/bento-abc", "493"],
        ["write", "/cg/bento-abc/memory.max", String(1 << 26)],
        ["write", "/cg/bento-abc/cpu.max", "50000 100000"],
        ["write", "/cg/bento-abc/cpu.weight", "100"],
        ["write", "/cg/bento-abc/pids.max", "20"],
        ["write", "/cg/bento-abc/io.weight", "default 4950"],
      ],
      procsFiles: [],
      cloneInto: "/cg/bento-abc",
    });
  });

  it("names the missing controller and the fix", () => {
    const driver = new CgroupV2Driver("/cg", new Set(["pids"]));
    expect(() => driver.setup("abc", { memoryBytes: 1 << 26 })).toThrow(/memory controller is not available under \/cg.*subtree_control/);
    expect(driver.setup("abc", {}).hostOps).toEqual([["mkdir", "/cg/bento-abc", "493"]]);
  });

  it("reads stats and OOM kills from the v2 files", async () => {
    const base = scratchDir("bento-cg2-");
    const dir = join(base, "bento-abc");
    mkdirSync(dir);
    writeFileSync(join(dir, "memory.current"), "4096\n");
    writeFileSync(join(dir, "memory.peak"), "8192\n");
    writeFileSync(join(dir, "cpu.stat"), "usage_usec 250\nuser_usec 200\n");
    writeFileSync(join(dir, "pids.current"), "3\n");
    writeFileSync(join(dir, "memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    const driver = new CgroupV2Driver(base, new Set());
    expect(await driver.stats("abc")).toEqual({ memoryBytes: 4096, memoryPeakBytes: 8192, cpuUsageNs: 250_000, pids: 3 });
    expect(await driver.oomKilled("abc")).toBe(true);
  });

  it("converts Docker's weights as runc and crun do", () => {
    expect(sharesToWeight(1024)).toBe(100);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262_144)).toBe(10_000);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(1000)).toBe(10_000);
  });
});
