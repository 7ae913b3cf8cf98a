import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/cli/args.js";
import { linesBetween, parseLogTime } from "../../../src/cli/log-time.js";

describe("bento logs --since/--until times", () => {
  const now = Date.parse("2026-01-02T15:04:05Z");

  it("reads RFC 3339 times, Unix seconds and durations back from now, as docker", () => {
    expect(parseLogTime("--since", "2026-01-02T15:00:00Z", "u", now)).toBe(Date.parse("2026-01-02T15:00:00Z"));
    expect(parseLogTime("--since", "1767366245.5", "u", now)).toBe(1767366245500);
    expect(parseLogTime("--since", "1h30m", "u", now)).toBe(now - 5_400_000);
    expect(parseLogTime("--since", "250ms", "u", now)).toBe(now - 250);
  });

  it("names the option and the forms for anything else", () => {
    expect(() => parseLogTime("--until", "soon", "usage", now)).toThrow(UsageError);
    expect(() => parseLogTime("--until", "soon", "usage", now)).toThrow('--until "soon": give a time (2026-01-02T15:04:05Z), Unix seconds, or a duration back from now (10m, 1h30m)');
  });

  it("keeps the lines from since, before until", () => {
    const line = (text: string, timestamp: string) => ({ stream: "stdout" as const, text, timestamp });
    const lines = [line("a", "2026-01-02T15:00:00.000000000Z"), line("b", "2026-01-02T15:01:00.000000000Z"), line("c", "2026-01-02T15:02:00.000000000Z")];
    expect(linesBetween(lines, Date.parse("2026-01-02T15:01:00Z"), undefined).map((l) => l.text)).toEqual(["b", "c"]);
    expect(linesBetween(lines, undefined, Date.parse("2026-01-02T15:01:00Z")).map((l) => l.text)).toEqual(["a"]);
  });
});
