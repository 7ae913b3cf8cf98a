import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveUser } from "../../../src/runtime/user.js";
import { formatLines, parseLogRecords } from "../../../src/runtime/logs.js";
import { normalizeOptions } from "../../../src/container/options.js";
import { scratchDir } from "../scratch.js";

function rootfs(): string {
  const dir = scratchDir("bento-user-");
  mkdirSync(join(dir, "etc"));
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\napp:x:1000:\nwheel:x:10:app,root\n");
  return dir;
}

describe("user resolution", () => {
  const layers = [rootfs()];
  it("resolves names, numbers and groups as Docker does", () => {
    expect(resolveUser(undefined, layers)).toEqual({ uid: 0, gid: 0, groups: [0, 10], home: "/root" });
    expect(resolveUser("app", layers)).toEqual({ uid: 1000, gid: 1000, groups: [1000, 10], home: "/home/app" });
    expect(resolveUser("1000:10", layers)).toEqual({ uid: 1000, gid: 10, groups: [10], home: "/home/app" });
    expect(resolveUser("4242", layers)).toEqual({ uid: 4242, gid: 0, groups: [0], home: "/" });
  });

  it("names a missing user or group and the fix", () => {
    expect(() => resolveUser("ghost", layers)).toThrow(/user: no user "ghost" in the image's \/etc\/passwd/);
    expect(() => resolveUser("app:ghosts", layers)).toThrow(/no group "ghosts"/);
  });

  it("reads the top-most layer that has the file", () => {
    const top = rootfs();
    writeFileSync(join(top, "etc/passwd"), "root:x:0:0:root:/top:/bin/sh\n");
    expect(resolveUser(undefined, [top, ...layers]).home).toBe("/top");
  });
});

describe("log records", () => {
  it("parses shim records into lines, keeping partial lines and an incomplete tail", () => {
    const { lines, rest } = parseLogRecords("1700000000123456789 o hello\n1700000000223456789 e oops\n1700000000323456789 O no newline\n17000");
    expect(lines.map((l) => [l.stream, l.text])).toEqual([
      ["stdout", "hello\n"],
      ["stderr", "oops\n"],
      ["stdout", "no newline"],
    ]);
    expect(lines[0]!.timestamp).toBe("2023-11-14T22:13:20.123456789Z");
    expect(rest).toBe("17000");
    expect(formatLines(lines, true).split("\n")[0]).toBe("2023-11-14T22:13:20.123456789Z hello");
  });
});

describe("container options", () => {
  it("normalizes defaults", () => {
    const o = normalizeOptions({});
    expect(o).toMatchObject({ init: true, network: "none", stopTimeoutMs: 10_000, readonlyRootfs: false, noNewPrivileges: true, mounts: [] });
  });

  it("names the option at fault", () => {
    expect(() => normalizeOptions({ env: { "A=B": "x" } })).toThrow(/env.A=B/);
    expect(() => normalizeOptions({ command: "echo hi" as unknown as string[] })).toThrow(/command: must be an array/);
    expect(() => normalizeOptions({ network: "bridge" as "host" })).toThrow(/network: "bridge" is not a network; use "none", "host", "slirp4netns", "pasta", a Network or \{ container: runningContainer \}/);
    expect(() => normalizeOptions({ mounts: [{ tmpfs: "tmp" }] })).toThrow(/mounts\[0\].tmpfs/);
    expect(() => normalizeOptions({ mounts: [{ bind: "/no/such/dir", target: "/x" }] })).toThrow(/bind source "\/no\/such\/dir" does not exist; create it first/);
    expect(() => normalizeOptions({ mounts: ["a:b:c:d"] })).toThrow(/mounts\[0\]: "a:b:c:d" is not "source:target\[:ro\]"/);
  });
});
