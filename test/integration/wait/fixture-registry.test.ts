/**
 * The on-disk reference count behind shared global fixtures. No container is made here (the
 * vitest-project test runs real ones); each test checks the registry files it leaves instead.
 */
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SharedFixtureRegistry } from "../../../src/testing/fixture-registry.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const fresh = () => join(testRoot, `registry-${n++}`);

/** A fake fixture: counts starts and stops, no container (the vitest project test covers those). */
function fixture(log: string[], details: unknown = { port: 1 }) {
  return async () => {
    log.push("start");
    return { details, stop: async () => void log.push("stop") };
  };
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  return Number(execFileSync("sh", ["-c", "sh -c 'echo $$' "], { encoding: "utf8" }).trim());
}

describe(`shared fixture registry`, () => {
  it("starts once, lets a second user join, and stops only after the last user left", async () => {
    const dir = fresh();
    const log: string[] = [];
    const first = await new SharedFixtureRegistry(dir).acquire("db", fixture(log, { port: 5432 }));
    const second = await new SharedFixtureRegistry(dir).acquire("db", fixture(log));
    expect([first.owner, second.owner, second.details]).toEqual([true, false, { port: 5432 }]);
    const retired = first.release().then(() => log.push("owner released"));
    await sleep(300); // several of the owner's looks at the users
    log.push("user leaves");
    await second.release();
    await retired;
    expect(log).toEqual(["start", "user leaves", "stop", "owner released"]);
    expect(existsSync(join(dir, "db", "owner.json"))).toBe(false);
    expect(readdirSync(join(dir, "db", "users"))).toEqual([]);
    // The next run starts a new one.
    const third = await new SharedFixtureRegistry(dir).acquire("db", fixture(log));
    expect(third.owner).toBe(true);
    await third.release();
    expect(log.filter((l) => l === "start")).toHaveLength(2);
  });

  it("starts anew over a dead owner's record, and does not wait for dead users", async () => {
    const dir = fresh();
    mkdirSync(join(dir, "db", "users"), { recursive: true });
    const dead = deadPid();
    writeFileSync(join(dir, "db", "owner.json"), JSON.stringify({ pid: dead, startTime: "1", details: { stale: true } }));
    writeFileSync(join(dir, "db", "users", `${dead}-1-0000`), JSON.stringify({ pid: dead, startTime: "1" }));
    // A live pid with another start time is a reused pid, not the user.
    writeFileSync(join(dir, "db", "users", `1-0-0000`), JSON.stringify({ pid: 1, startTime: "0" }));
    const log: string[] = [];
    const lease = await new SharedFixtureRegistry(dir).acquire("db", fixture(log, { fresh: true }));
    expect([lease.owner, lease.details]).toEqual([true, { fresh: true }]);
    await lease.release();
    expect(log).toEqual(["start", "stop"]);
    expect(readdirSync(join(dir, "db", "users"))).toEqual([]);
  });

  it("lets no one in while the fixture starts, and releases the lock when a start fails", async () => {
    const dir = fresh();
    const log: string[] = [];
    let finishStart!: () => void;
    const slow = new SharedFixtureRegistry(dir).acquire("db", async () => {
      log.push("slow start");
      await new Promise<void>((r) => (finishStart = r));
      return { details: 1, stop: async () => void log.push("stop") };
    });
    await sleep(50);
    const joining = new SharedFixtureRegistry(dir).acquire("db", fixture(log));
    await sleep(100);
    finishStart();
    const [owner, user] = await Promise.all([slow, joining]);
    expect([owner.owner, user.owner, log]).toEqual([true, false, ["slow start"]]);
    await user.release();
    await owner.release();
    await expect(new SharedFixtureRegistry(dir).acquire("db", async () => Promise.reject(new Error("image missing")))).rejects.toThrow("image missing");
    const next = await new SharedFixtureRegistry(dir).acquire("db", fixture(log));
    expect(next.owner).toBe(true);
    await next.release();
  });

  it("refuses names that are not plain words", async () => {
    await expect(new SharedFixtureRegistry(fresh()).acquire("../x", fixture([]))).rejects.toThrow(/share: "..\/x" may only hold/);
  });
});
