/**
 * The bundle scripts/build-dist.mjs makes (the one the test run's globalSetup builds, as `npm run
 * build` makes dist/): its classes and functions keep their names, which error messages and
 * inspect() show, although esbuild runs without keepNames (see build-dist.mjs).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, inject, it } from "vitest";

const bundle = dirname(dirname(inject("bentoCli")));
// What users import: the package's `exports` (dist/index.js, dist/modules/postgres.js...), as
// files of the bundle.
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../../package.json"), "utf8")) as { exports: Record<string, string | { import?: string }> };
const entries = Object.values(pkg.exports).flatMap((target) => (typeof target === "object" && target.import ? [target.import.replace(/^\.\/dist\//, "")] : []));

describe("the bundle", () => {
  it("has the package's entry points to check", () => expect(entries).toContain("index.js"));

  it.each(entries)("exports from %s under their own names", async (entry) => {
    const exports = (await import(pathToFileURL(join(bundle, entry)).href)) as Record<string, unknown>;
    const named = Object.entries(exports).filter(([, value]) => typeof value === "function");
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter(([key, value]) => (value as { name: string }).name !== key).map(([key, value]) => `${key} is named ${(value as { name: string }).name}`)).toEqual([]);
  });

  it("gives an error its class's name", async () => {
    const { InvalidOptionError, Image } = (await import(pathToFileURL(join(bundle, "index.js")).href)) as typeof import("../../../src/index.js");
    const error = new InvalidOptionError("memory", "is not a size");
    expect(error.name).toBe("InvalidOptionError");
    expect(String(error)).toMatch(/^InvalidOptionError: /);
    expect(new Image().constructor.name).toBe("Image");
  });
});
