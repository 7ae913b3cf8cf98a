import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks } from "../builder/helpers.js";
import { start } from "./kit.js";

afterEach(() => expectNoLeaks());

describe(`host-side paths resolved inside the container`, () => {
  it("fills a VOLUME from the image's own files when the image makes its path a symlink to / (no host /etc/shadow)", async () => {
    const image = Image.fromRootfs(busyboxRootfs()).run("ln -s / /e && echo image-etc > /etc/marker").volume("/e/etc").cmd(["sh", "-c", "ls /e/etc; cat /e/etc/shadow 2>&1 || true"]);
    const running = await new Container(image).start();
    await running.wait();
    const out = await running.logs({ stream: "stdout" });
    await (await running.stop()).remove();
    expect(out).toContain("marker");
    expect(out).not.toMatch(/^root:[^:]*:\d+/m);
    expect(out).not.toContain("shadow\n");
  });

  it("copies a stopped container's own file out, not the host's, through a symlink it made (copyFrom /etcl/shadow)", async () => {
    const running = await start(["sh", "-c", "ln -s /etc /etcl && echo mine > /etc/shadow"]);
    await running.wait();
    const stopped = await running.stop();
    const out = join(testRoot, "copied-shadow");
    rmSync(out, { force: true });
    await stopped.copyFrom("/etcl/shadow", out);
    expect(readFileSync(out, "utf8")).toBe("mine\n");
    await stopped.remove();
  });

  it("writes copyTo of a stopped container inside it, not into the host directory a symlink names", async () => {
    const hostDir = join(testRoot, "host-target");
    mkdirSync(hostDir, { recursive: true });
    // The first run makes the link and ends; the restart sleeps, to be looked into.
    const running = await start(["sh", "-c", `[ -L /out ] && exec sleep 30; ln -s ${hostDir} /out`]);
    await running.wait();
    const stopped = await running.stop();
    await stopped.copyTo(Buffer.from("payload\n"), "/out/planted");
    expect(existsSync(join(hostDir, "planted"))).toBe(false);
    const again = await stopped.start();
    expect((await again.exec(["cat", `${hostDir}/planted`])).stdout).toBe("payload\n");
    await (await again.stop({ timeoutMs: 1000 })).remove();
  });
});
