import { afterEach, describe, expect, it, vi } from "vitest";
import { readConfig } from "../../../src/config.js";
import { Deadline, scaledTimeoutMs } from "../../../src/wait/deadline.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("the startup deadline", () => {
  it("multiplies startupTimeoutMs by BENTO_TIMEOUT_SCALE", () => {
    expect(scaledTimeoutMs(60_000, 1)).toBe(60_000);
    expect(scaledTimeoutMs(30_000, 2.5)).toBe(75_000);
    expect(scaledTimeoutMs(1000, 0.333)).toBe(333);
    const scale = readConfig({ BENTO_TIMEOUT_SCALE: "3" }).timeoutScale;
    expect(Deadline.start(20_000, scale, () => 0).timeoutMs).toBe(60_000);
    expect(readConfig({}).timeoutScale).toBe(1);
    expect(() => readConfig({ BENTO_TIMEOUT_SCALE: "0" })).toThrow(/BENTO_TIMEOUT_SCALE/);
  });

  it("counts every phase against one deadline, from the start", () => {
    let now = 1_000;
    const deadline = Deadline.start(10_000, 2, () => now);
    expect([deadline.at, deadline.remainingMs(), deadline.elapsedMs(), deadline.expired()]).toEqual([21_000, 20_000, 0, false]);
    now += 7_000; // say, the build
    now += 3_000; // and the setup
    expect([deadline.remainingMs(), deadline.elapsedMs()]).toEqual([10_000, 10_000]);
    now += 10_000;
    expect([deadline.remainingMs(), deadline.expired()]).toEqual([0, true]);
    now += 5_000;
    expect(deadline.remainingMs()).toBe(0);
  });

  it("describes the timeout with its scale only when there is one", () => {
    expect(Deadline.start(60_000, 1).describe()).toBe("60000 ms");
    expect(Deadline.start(30_000, 2.5).describe()).toBe("75000 ms (startupTimeoutMs 30000 x BENTO_TIMEOUT_SCALE 2.5)");
  });

  it("fires onExpiry at the scaled deadline, and not after a cancel", () => {
    vi.useFakeTimers({ now: 0 });
    const deadline = Deadline.start(100, 3);
    const fired = vi.fn();
    const cancelled = vi.fn();
    deadline.onExpiry(fired);
    deadline.onExpiry(cancelled)();
    vi.advanceTimersByTime(299);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    expect(cancelled).not.toHaveBeenCalled();
  });

  it("arms timers beyond Node's 24.8-day limit in steps", () => {
    vi.useFakeTimers({ now: 0 });
    const deadline = Deadline.start(2 ** 31 + 500, 1);
    const fired = vi.fn();
    deadline.onExpiry(fired);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(501);
    expect(fired).toHaveBeenCalledOnce();
  });

  it("races a phase against the deadline", async () => {
    vi.useFakeTimers({ now: 0 });
    const deadline = Deadline.start(1000, 1);
    await expect(deadline.race(Promise.resolve("built"), () => new Error("late"))).resolves.toBe("built");
    const never = new Promise<string>(() => undefined);
    const raced = deadline.race(never, () => new Error("the build timed out"));
    vi.advanceTimersByTime(1000);
    await expect(raced).rejects.toThrow("the build timed out");
  });
});
