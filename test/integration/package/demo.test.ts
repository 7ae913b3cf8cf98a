/**
 * The main job, `npm run demo`, as the README gives it: it runs to its end as root and as a
 * normal user (CI's rootless run), serves its page on the published port, and leaves no
 * container behind. Rootless on a host without a delegated cgroup it says it runs without
 * limits and why, instead of failing.
 */
import { isRoot, testRoot } from "../setup-env.js";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { doctor } from "../../../src/runtime/doctor.js";
import { repo } from "./installed.js";

describe("the demo", () => {
  it("builds, serves its page on 127.0.0.1 and ::1, and leaves no container", { timeout: 180_000 }, async () => {
    const home = join(testRoot, "demo-home");
    const tsx = join(repo, "node_modules/tsx/dist/cli.mjs");
    const { stdout } = await promisify(execFile)(process.execPath, [tsx, join(repo, "examples/demo.ts")], { cwd: repo, env: { ...process.env, BENTO_HOME: home } });
    expect(stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/ -> 200 <h1>hello from a bento container<\/h1>/);
    expect(stdout).toMatch(/GET http:\/\/\[::1\]:\d+\/ -> 200 <h1>hello from a bento container<\/h1>/);
    expect(stdout).toMatch(/rebuilt from the cache in/);
    expect(stdout).toContain(`containers left in ${home}: 0`);
    const limited = (await doctor()).checks.find((c) => c.name === "cgroups")?.status === "ok";
    if (limited) expect(stdout).toMatch(/OOMKilled|oomKilled: true/);
    else expect(stdout).toContain("(no resource limits in this demo:");
    if (isRoot) expect(limited).toBe(true); // root always has cgroups of its own
  });
});
