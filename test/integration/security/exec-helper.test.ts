import { isRoot, skipReason } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { start } from "./kit.js";

describe.skipIf(!isRoot)(`the exec helper (${skipReason})`, () => {
  it("cannot be stopped and robbed of its fds by container root to forge exec results (CVE-2016-9962)", async () => {
    // Unconfined: the default profile would refuse pidfd_getfd itself; the helper must hold on its own.
    const running = await start(["/escape-probe", "steal", "6"], { seccomp: "unconfined" });
    const results: string[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const r = await running.exec(["echo", "genuine"]);
      results.push(`${r.exitCode} ${r.stdout}`);
    }
    const exit = await running.wait();
    const out = await running.logs({ stream: "stdout" });
    await (await running.stop()).remove();
    expect(exit.exitCode).toBe(0);
    expect(new Set(results)).toEqual(new Set(["0 genuine\n"]));
    expect(out).toMatch(/stolen 0\n/);
  });
});
