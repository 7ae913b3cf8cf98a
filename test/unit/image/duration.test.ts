import { describe, expect, it } from "vitest";
import { parseGoDurationMs } from "../../../src/image/duration.js";

describe("parseGoDurationMs", () => {
  it("reads Go's units, sums and signs", () => {
    expect(parseGoDurationMs("1m30s")).toBe(90_000);
    expect(parseGoDurationMs("1h")).toBe(3_600_000);
    expect(parseGoDurationMs("1.5s")).toBe(1500);
    expect(parseGoDurationMs("250ms")).toBe(250);
    expect(parseGoDurationMs("-2s")).toBe(-2000);
    expect(parseGoDurationMs("0")).toBe(0);
  });

  it("takes microseconds written with either micro sign, as Go does", () => {
    expect(parseGoDurationMs("1500us")).toBe(1.5);
    expect(parseGoDurationMs("1500\u00b5s")).toBe(1.5); // MICRO SIGN
    expect(parseGoDurationMs("1500\u03bcs")).toBe(1.5); // GREEK SMALL LETTER MU
    expect(parseGoDurationMs("2000000ns")).toBe(2);
  });

  it("refuses a number without a unit, an unknown unit and trailing text", () => {
    for (const bad of ["5", "", "5x", "1s2", "s", "1.s.", "--1s"]) expect(parseGoDurationMs(bad), bad).toBeUndefined();
  });
});
