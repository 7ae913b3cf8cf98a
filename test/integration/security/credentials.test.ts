import { isRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { Container, Image, InvalidOptionError } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { run, sh, start } from "./kit.js";

const image = () => Image.fromRootfs(busyboxRootfs());

describe(`user ids and capabilities`, () => {
  it("refuses user ids that would wrap to root or another uid (4294967296, 99999999999, 2147483648)", () => {
    for (const user of ["4294967296", "99999999999", "2147483648", "0:4294967296", "app:99999999999", "1000:4294967295"]) {
      expect(() => new Container(image(), { user }), user).toThrow(InvalidOptionError);
    }
    expect(() => new Container(image(), { user: "4294967296" })).toThrow(/user: uid "4294967296" is outside 0..2147483647/);
    expect(() => new Container(image(), { user: "2147483647:2147483647" })).not.toThrow();
  });

  it("refuses exec({ user }) ids that would wrap, and runs nothing", async () => {
    const running = await start(["sleep", "30"]);
    await expect(running.exec(["id", "-u"], { user: "4294967296" })).rejects.toThrow(/uid "4294967296" is outside 0..2147483647/);
    await expect(running.exec(["id", "-u"], { user: "0:99999999999" })).rejects.toThrow(InvalidOptionError);
    // Rootless, a container holds only the ids of its user namespace's map: bento says so instead
    // of the kernel's bare EINVAL.
    if (isRoot) expect((await running.exec(["id", "-u"], { user: "2147483647" })).stdout).toBe("2147483647\n");
    else await expect(running.exec(["id", "-u"], { user: "2147483647" })).rejects.toThrow(/exec user 2147483647:\d+.*: rootless(, a container holds only ids 0\.\.\d+| without a subordinate id range)/);
    await expect(running.exec(["env"], { env: { TOKEN: "abc\0def" } })).rejects.toThrow(InvalidOptionError);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it("keeps the inheritable and ambient capability sets empty, even with noNewPrivileges: false (CVE-2022-24769)", async () => {
    // Without a subordinate id range only container root exists (the user case asserts that error).
    if (onlyRootInContainers) await expect(run(sh("true"), { user: "app", noNewPrivileges: false })).rejects.toThrow(unmappedUserError);
    for (const options of [{}, { noNewPrivileges: false }, ...(onlyRootInContainers ? [] : [{ user: "app", noNewPrivileges: false }])]) {
      const r = await run(sh("grep -E '^Cap(Inh|Amb):' /proc/self/status"), options);
      expect(r.stdout, JSON.stringify(options)).toMatch(/^CapInh:\s+0+\nCapAmb:\s+0+\n$/);
    }
    const running = await start(["sleep", "30"]);
    expect((await running.exec(sh("grep -E '^Cap(Inh|Amb):' /proc/self/status"))).stdout).toMatch(/^CapInh:\s+0+\nCapAmb:\s+0+\n$/);
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });
});

describe("inputs the kernel would silently cut or wrap", () => {
  it("refuses a NUL in an environment value instead of truncating it", () => {
    expect(() => new Container(image(), { env: { TOKEN: "abc\0def" } })).toThrow(/env.TOKEN: the value contains a NUL character/);
  });

  it("refuses a memory limit past 2^53 bytes instead of wrapping it", () => {
    expect(() => new Container(image(), { resources: { memory: "99999999999t" } })).toThrow(/resources.memory: "99999999999t" is too large/);
    expect(() => new Container(image(), { resources: { memory: 2 ** 64 } })).toThrow(InvalidOptionError);
  });
});
