import { isRoot, skipReason } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { Image } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, runImage } from "../build/helpers.js";
import { hostDisk } from "./kit.js";

afterEach(() => expectNoLeaks());


describe.skipIf(!isRoot)(`build RUN steps (${skipReason})`, () => {
  it("cannot read the host's disk through mknod in a RUN step", async () => {
    const image = Image.fromRootfs(busyboxRootfs())
      .run(`mknod /dev/disk b ${hostDisk()}; (head -c 512 /dev/disk | wc -c) > /read-bytes 2>/dev/null; true`)
      .cmd(["cat", "/read-bytes"]);
    expect((await runImage(image)).stdout.trim()).toBe("0");
  });

  it("runs RUN steps under the default seccomp profile, with empty inheritable capabilities", async () => {
    const image = Image.fromRootfs(busyboxRootfs())
      .run("grep -E '^(Seccomp|CapInh|CapAmb):' /proc/self/status > /status")
      .cmd(["cat", "/status"]);
    expect((await runImage(image)).stdout).toMatch(/CapInh:\s+0+\nCapAmb:\s+0+\nSeccomp:\s+2\n/);
  });
});
