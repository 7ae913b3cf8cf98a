/**
 * The readiness poll's sleep: 1 ms while a start is young, a twentieth of the elapsed time after.
 */
import { expect, it } from "vitest";
import { pollDelayMs } from "../../../src/wait/poll-schedule.js";

it("sleeps 1 ms for the first 20 ms, then grows with the wait, up to the cap", () => {
  expect([0, 5, 19, 39].map((ms) => pollDelayMs(ms))).toEqual([1, 1, 1, 1]);
  expect(pollDelayMs(200)).toBe(10);
  expect(pollDelayMs(60_000)).toBe(25);
  expect(pollDelayMs(60_000, 100)).toBe(100);
});
