import { describe, expect, it } from "vitest";
import { encodePlan } from "../../../src/native/plan-codec.js";
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID, compileContainerPlan, compileExecPlan, type RuntimeSpec } from "../../../src/runtime/container-plan.js";
import { kernelAtLeast } from "../../../src/runtime/kernel-version.js";
import { escapeOverlayPath } from "../../../src/runtime/rootfs-ops.js";
import { capabilityMask } from "../../../src/runtime/capabilities.js";
import { parseBytes, toCgroupLimits } from "../../../src/runtime/limits.js";
import { decodeWaitStatus, signalNumber } from "../../../src/runtime/wait-status.js";

const spec: RuntimeSpec = {
  id: "abc",
  hostname: "abc",
  lowerDirs: ["/layers/top", "/layers/base"],
  containerDir: "/c/abc",
  logFile: "/c/abc/container.log",
  readonlyRootfs: false,
  init: true,
  network: "none",
  mounts: [],
  process: { argv: ["sh"], env: ["PATH=/bin"], cwd: "/app", uid: 0, gid: 0, groups: [0], capabilities: capabilityMask(), noNewPrivileges: true, seccomp: "" },
};

describe("plan encoding", () => {
  it("frames records as length-prefixed fields, so values may hold any byte", () => {
    const bytes = encodePlan([["env", "A=1\n2", "B=é"]]);
    expect(bytes.toString()).toBe("23\n3:3:env,5:A=1\n2,4:B=é,");
  });
});

describe("container plan", () => {
  it("follows runc's order: cgroups, clone, private mounts, overlay, /proc, /dev, masks, pivot, hostname", () => {
    const plan = compileContainerPlan(spec, { hostOps: [["mkdir", "/cg/bento-abc", "493"]], procsFiles: ["/cg/bento-abc/cgroup.procs"] });
    const names = plan.records.map((r) => r[0]);
    const order = ["mkdir", "clone", "cgroup-procs", "propagation", "mount-overlay", "set-root", "mask-in", "readonly-in", "pivot", "sethostname", "loopback-up", "argv"];
    const positions = order.map((n) => names.indexOf(n));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const overlay = plan.records.find((r) => r[0] === "mount-overlay")!;
    // "volatile" where the kernel has it (5.10+): no syncs of the container's upper dir.
    const flags = kernelAtLeast(5, 10) ? "volatile" : "";
    expect(overlay.slice(1)).toEqual(["/c/abc/merged", "4", `lowerdir=/layers/top:/layers/base,upperdir=/c/abc/upper,workdir=/c/abc/work${flags ? `,${flags}` : ""}`, "/c/abc/upper", "/c/abc/work", flags, "/layers/top", "/layers/base"]);
    expect(plan.describe(names.indexOf("pivot"))).toBe("pivot_root into the root filesystem");
    expect(plan.records).toContainEqual(["mkdir-in", "app", "493"]);
  });

  it("with fuse-overlayfs, has the shim open /dev/fuse and init mount it and start the server", () => {
    const plan = compileContainerPlan({ ...spec, overlay: { kind: "fuse-overlayfs", program: "/usr/bin/fuse-overlayfs" } }, { hostOps: [], procsFiles: ["/cg/memory/bento-abc/cgroup.procs", "/cg/pids/bento-abc/cgroup.procs"] });
    const names = plan.records.map((r) => r[0]);
    expect(names).not.toContain("mount-overlay");
    expect(names.indexOf("fuse-device")).toBeLessThan(names.indexOf("clone"));
    const fuse = plan.records.find((r) => r[0] === "mount-fuse-overlay")!;
    expect(fuse.slice(1)).toEqual([
      "always",
      "/c/abc/merged",
      "4",
      "rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions",
      "/cg/memory/bento-abc/cgroup.procs\n/cg/pids/bento-abc/cgroup.procs",
      "/usr/bin/fuse-overlayfs",
      "-f",
      "-o",
      "lowerdir=/layers/top:/layers/base,upperdir=/c/abc/upper,workdir=/c/abc/work,writeback=0",
      "/dev/fd/",
    ]);
    expect(names.indexOf("mount-fuse-overlay")).toBeLessThan(names.indexOf("set-root"));
    expect(plan.describe(names.indexOf("mount-fuse-overlay"))).toBe("mount the root filesystem (overlay of 2 layers) on /c/abc/merged through /usr/bin/fuse-overlayfs");
  });

  it("with the fallback, tries the kernel's overlay first and starts fuse-overlayfs only where it refused", () => {
    const plan = compileContainerPlan({ ...spec, overlay: { kind: "kernel-else-fuse", program: "/usr/bin/fuse-overlayfs" } }, { hostOps: [], procsFiles: [] });
    const names = plan.records.map((r) => r[0]);
    expect(plan.records.find((r) => r[0] === "try-mount-overlay")!.slice(1, 3)).toEqual(["1,22,19", "/c/abc/merged"]);
    expect(plan.records.find((r) => r[0] === "mount-fuse-overlay")![1]).toBe("if-kernel-refused");
    expect(names.indexOf("try-mount-overlay")).toBeLessThan(names.indexOf("mount-fuse-overlay"));
  });

  it("refuses store paths fuse-overlayfs cannot take, and names the kernel's refusal fixes without a fallback", () => {
    expect(() => compileContainerPlan({ ...spec, lowerDirs: ["/a:b"], overlay: { kind: "fuse-overlayfs", program: "/f" } }, { hostOps: [], procsFiles: [] })).toThrow('fuse-overlayfs cannot take the path "/a:b"');
    const plan = compileContainerPlan({ ...spec, overlay: { kind: "kernel", fallbackFix: "install it" } }, { hostOps: [], procsFiles: [] });
    expect(plan.describe(plan.records.findIndex((r) => r[0] === "mount-overlay"))).toMatch(/\(install it\)$/);
  });

  it("passes every layer separately, with a relative-path fallback for old kernels", () => {
    const many = Array.from({ length: 40 }, (_, i) => `/var/lib/bento/layers/${"f".repeat(62)}${String(i).padStart(2, "0")}`);
    const plan = compileContainerPlan({ ...spec, lowerDirs: many }, { hostOps: [], procsFiles: [] });
    expect(plan.records).toContainEqual(["chdir", "/var/lib/bento/layers"]);
    const overlay = plan.records.find((r) => r[0] === "mount-overlay")!;
    expect(overlay.slice(7)).toEqual(many);
    expect(overlay[3]!.length).toBeLessThan(4096 - 512);
  });

  it("escapes overlay separators in paths", () => {
    expect(escapeOverlayPath("/a:b,c\\d")).toBe("/a\\:b\\,c\\\\d");
  });

  it("rootless: joins the user namespace first, mounts overlay with userxattr, binds device nodes and /sys", () => {
    const plan = compileContainerPlan({ ...spec, network: "host", userNamespace: { holderPid: 77, singleId: true } }, { hostOps: [], procsFiles: [] });
    const names = plan.records.map((r) => r[0]);
    expect(plan.records).toContainEqual(["userns", "77"]);
    expect(names.indexOf("userns")).toBeLessThan(names.indexOf("clone"));
    const overlay = plan.records.find((r) => r[0] === "mount-overlay")!;
    const flags = kernelAtLeast(5, 10) ? "userxattr,volatile" : "userxattr";
    expect(overlay[6]).toBe(flags);
    expect(overlay[3]!.endsWith(`,${flags}`)).toBe(true);
    expect(names).not.toContain("mknod-in");
    expect(plan.records).toContainEqual(["mount-in", "/dev/null", "dev/null", "", "4096", ""]);
    expect(plan.records).toContainEqual(["mount-in", "/sys", "sys", "", String(0x1000 | 0x4000), ""]);
    expect(plan.records.find((r) => r[0] === "mount-in" && r[2] === "dev/pts")![5]).not.toMatch(/gid=5/);
  });

  it("tells the shim of a detached container to outlive Node and where to record the exit; others get neither", () => {
    const detached = compileContainerPlan({ ...spec, detach: { exitFile: "/run/bento/containers/abc/exit.json" } }, { hostOps: [], procsFiles: [] });
    expect(detached.records).toContainEqual(["detach", "1"]);
    expect(detached.records).toContainEqual(["exit-file", "/run/bento/containers/abc/exit.json"]);
    const bound = compileContainerPlan(spec, { hostOps: [], procsFiles: [] });
    expect(bound.records.filter((r) => r[0] === "detach" || r[0] === "exit-file")).toEqual([]);
  });

  it("joins cgroups before namespaces for exec", () => {
    const plan = compileExecPlan(42, "none", ["/cg/x/cgroup.procs"], spec.process);
    expect(plan.records.slice(0, 4)).toEqual([
      ["section", "settings"],
      ["cgroup-procs", "/cg/x/cgroup.procs"],
      ["target-pid", "42"],
      ["ns-flags", String(0x20000 | 0x20000000 | 0x08000000 | 0x04000000 | 0x40000000 | 0x02000000)],
    ]);
  });
});

describe("limits and capabilities", () => {
  it("parses Docker's sizes", () => {
    expect(parseBytes("m", "256m")).toBe(256 * 1024 * 1024);
    expect(parseBytes("m", "1g")).toBe(1024 ** 3);
    expect(parseBytes("m", "1.5k")).toBe(1536);
    expect(() => parseBytes("resources.memory", "lots")).toThrow(/resources.memory: "lots" is not a size/);
  });

  it("converts cpus to a CFS quota and rejects bad limits", () => {
    expect(toCgroupLimits({ cpus: 0.5, pids: 100 })).toEqual({ cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, pidsMax: 100 });
    expect(() => toCgroupLimits({ memory: "1k" })).toThrow(/below the minimum/);
    expect(() => toCgroupLimits({ pids: 1.5 })).toThrow(/resources.pids/);
  });

  it("computes Docker's default capability mask and applies add/drop", () => {
    expect(capabilityMask().toString(16)).toBe("a80425fb");
    expect(capabilityMask(["NET_ADMIN"], ["CAP_MKNOD"]).toString(16)).toBe("a00435fb");
    expect(capabilityMask([], ["ALL"])).toBe(0n);
    expect(() => capabilityMask(["FLY"])).toThrow(/capAdd: "FLY" is not a Linux capability/);
  });

  it("decodes wait statuses as Docker reports them", () => {
    expect(decodeWaitStatus(3 << 8, false)).toEqual({ exitCode: 3, oomKilled: false });
    expect(decodeWaitStatus(9, true)).toEqual({ exitCode: 137, signal: "SIGKILL", oomKilled: true });
    expect(signalNumber("term")).toBe(15);
    expect(signalNumber("SIGNOPE")).toBeUndefined();
  });
});

describe("devices, privileged and shared namespaces", () => {
  const cgroups = { hostOps: [], procsFiles: [], cloneInto: "/cg/bento-abc" };
  const fuse = { source: "/dev/fuse", target: "/dev/fuse", type: "c" as const, major: 10, minor: 229, mode: 0o600, access: "rwm" };
  const filter = (plan: ReturnType<typeof compileContainerPlan>) => plan.records.find((r) => r[0] === "device-filter");

  it("a device is made under /dev with its numbers, bound before /dev turns nodev, and allowed by its own program", () => {
    const plan = compileContainerPlan({ ...spec, devices: [fuse] }, cgroups);
    const names = plan.records.map((r) => r.join(" "));
    const node = names.indexOf(`mknod-in dev/fuse ${0o020000 | 0o600} 10 229`);
    expect(node).toBeGreaterThan(0);
    expect(names.indexOf("mount-in /c/abc/merged/dev/fuse dev/fuse  4096 ")).toBeGreaterThan(node);
    expect(names.findIndex((n) => n.startsWith("mount-in  dev  "))).toBeGreaterThan(node);
    expect(filter(plan)![2]).not.toBe(filter(compileContainerPlan(spec, cgroups))![2]);
  });

  it("on a pure cgroup v1 host, denies every device in the devices controller and allows Docker's list and the container's own", () => {
    const v1 = { hostOps: [], procsFiles: ["/cg/devices/bento-abc/cgroup.procs"], devicesV1: "/cg/devices/bento-abc" };
    const writes = compileContainerPlan({ ...spec, devices: [fuse] }, v1).records.filter((r) => r[0] === "write" && r[1]!.startsWith("/cg/devices/"));
    expect(writes.slice(0, 4)).toEqual([
      ["write", "/cg/devices/bento-abc/devices.deny", "a"],
      ["write", "/cg/devices/bento-abc/devices.allow", "c *:* m"],
      ["write", "/cg/devices/bento-abc/devices.allow", "b *:* m"],
      ["write", "/cg/devices/bento-abc/devices.allow", "c 1:3 rwm"],
    ]);
    expect(writes.at(-1)).toEqual(["write", "/cg/devices/bento-abc/devices.allow", "c 10:229 rwm"]);
    expect(compileContainerPlan({ ...spec, privileged: true }, v1).records.filter((r) => r[0] === "write" && r[1]?.startsWith("/cg/devices/"))).toEqual([]);
  });

  it("privileged: no device program, no nodev /dev, no masks, /sys writable", () => {
    const plan = compileContainerPlan({ ...spec, privileged: true, devices: [fuse] }, cgroups);
    const names = plan.records.map((r) => r[0]);
    expect(filter(plan)).toBeUndefined();
    expect(names).not.toContain("mask-in");
    expect(plan.records.filter((r) => r[0] === "readonly-in")).toEqual([]);
    expect(plan.records.find((r) => r[0] === "mount-in" && r[2] === "sys")![4]).toBe(String(2 | 4 | 8));
  });

  it("shared namespaces are entered before clone, which then makes none of them; a shared /dev/shm is borrowed", () => {
    const plan = compileContainerPlan({ ...spec, netnsOf: 11, pidNamespace: "host", ipcNamespace: 12 }, cgroups);
    const clone = Number(plan.records.find((r) => r[0] === "clone")![1]);
    expect(clone & (CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC)).toBe(0);
    expect(plan.records.filter((r) => r[0] === "ns-of" || r[0] === "borrow-mount")).toEqual([
      ["ns-of", "11", String(CLONE_NEWNET)],
      ["ns-of", "12", String(CLONE_NEWIPC)],
      ["borrow-mount", "12", "/dev/shm"],
    ]);
    expect(plan.records).toContainEqual(["attach-borrowed-in", "dev/shm"]);
    expect(plan.records.map((r) => r[0])).not.toContain("loopback-up");
  });
});
