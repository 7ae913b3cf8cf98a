// The cgroup v2 driver on this host's unified hierarchy (BENTO_CGROUP=v2): placement with
// CLONE_INTO_CGROUP, exec joining, cgroup.kill, events. On a hybrid host it has no controllers,
// so limits cannot be set there; that is checked to fail with a clear error.
process.env.BENTO_CGROUP = "v2";
// Rootless, the v2 driver works in a subtree delegated to the user: .ci/run chowns one of the
// unified hierarchy to the test user and names it here.
const delegated = process.env.BENTO_TEST_DELEGATED_CGROUP;
if (process.getuid?.() !== 0 && delegated) process.env.BENTO_CGROUP_PARENT = delegated;
import { isRoot } from "../setup-env.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Container, Image } from "../../../src/index.js";
import { cgroupDriver } from "../../../src/runtime/cgroup/detect.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const made: string[] = [];
afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

const unified = () => readFileSync("/proc/self/mountinfo", "utf8").includes(" - cgroup2 ");

describe(`cgroup v2 driver`, () => {
  beforeAll(() => {
    if (!unified()) throw new Error("the cgroup v2 driver is tested on a cgroup2 hierarchy (pure v2, or a hybrid host's unified one), and none is mounted here");
  });

  it("places the container, joins execs to it, and kills everything with cgroup.kill", async () => {
    if (!isRoot && !delegated) throw new Error("rootless: set BENTO_TEST_DELEGATED_CGROUP to a cgroup2 directory owned by this user (.ci/run makes one) to test a delegated subtree");
    const driver = cgroupDriver();
    expect(driver.version).toBe("v2");
    const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait"] }).start();
    made.push(running.id);
    const [dir] = driver.paths(running.id);
    const procs = () => readFileSync(join(dir!, "cgroup.procs"), "utf8").trim().split("\n").filter(Boolean);
    const deadline = Date.now() + 10_000;
    while (procs().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(procs().length).toBe(4); // init, sh and its two sleeps, all in the container's group
    expect(readFileSync(join(dir!, "cgroup.events"), "utf8")).toMatch(/populated 1/);
    const inside = await running.exec(["cat", "/proc/self/cgroup"]);
    expect(inside.stdout).toMatch(/^0::\/$/m); // its own cgroup namespace, rooted at the container's group
    const t0 = Date.now();
    const stopped = await running.stop({ timeoutMs: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(stopped.exitCode).toBe(137);
    await stopped.remove();
  });

  it("names the missing controller when limits are asked for", async () => {
    const controllers = readFileSync(join(cgroupDriver().paths("x")[0]!, "..", "cgroup.controllers"), "utf8");
    if (controllers.includes("memory")) return; // a pure v2 host: limits work there (see the v1 tests for their effect)
    await expect(new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"], resources: { memory: "64m" } }).start()).rejects.toThrow(/memory controller is not available/);
  });

  it("refuses a BENTO_CGROUP_PARENT outside cgroup2 (and, rootless, one not the user's), naming the fix", async () => {
    const { rootlessDriver, parseCgroupMounts } = await import("../../../src/runtime/cgroup/detect.js");
    const mounts = parseCgroupMounts(readFileSync("/proc/self/mountinfo", "utf8"));
    const controllers = () => "";
    expect(() => rootlessDriver(mounts, controllers, "/tmp")).toThrow(/BENTO_CGROUP_PARENT: "\/tmp" is not inside a cgroup2 hierarchy.*unset it/);
    const v2 = mounts.find((m) => m.fsType === "cgroup2")!.mountPoint;
    // Root may write anywhere; a user only where the tree was delegated to them.
    if (!isRoot) expect(() => rootlessDriver(mounts, controllers, v2)).toThrow(/is not writable by uid \d+; chown it/);
    const undelegated = rootlessDriver(mounts, controllers, undefined);
    expect(undelegated.paths("x")).toEqual([]);
    expect(() => undelegated.setup("x", { memoryBytes: 1 << 26 })).toThrow(/rootless limits need a delegated cgroup v2 subtree/);
  });
});
