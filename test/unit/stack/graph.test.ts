import { describe, expect, it } from "vitest";
import { dependenciesFirst, findCycle } from "../../../src/stack/graph.js";

describe("dependenciesFirst", () => {
  it("puts every service after its dependencies, whatever order they were declared in", () => {
    const graph = new Map([
      ["web", ["api"]],
      ["api", ["migrate", "db"]],
      ["migrate", ["db"]],
      ["db", []],
      ["cache", []],
    ]);
    const order = dependenciesFirst(graph);
    expect(order).toEqual(["db", "migrate", "api", "web", "cache"]);
    for (const [name, deps] of graph) for (const d of deps) expect(order.indexOf(d)).toBeLessThan(order.indexOf(name));
  });

  it("keeps declaration order among independent services and ignores dependencies outside the graph", () => {
    expect(
      dependenciesFirst(
        new Map([
          ["b", []],
          ["a", ["gone"]],
          ["c", []],
        ]),
      ),
    ).toEqual(["b", "a", "c"]);
  });

  it("throws on a cycle (findCycle names it first)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["a"]],
    ]);
    expect(findCycle(graph)).toEqual(["a", "b", "a"]);
    expect(() => dependenciesFirst(graph)).toThrow(/cycle/);
  });
});
