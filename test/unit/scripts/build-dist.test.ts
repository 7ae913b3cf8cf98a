/**
 * The bundle scripts/build-dist.mjs makes (the one the test run's globalSetup builds, as `npm run
 * build` makes dist/): its classes and functions keep their names, which error messages and
 * inspect() show, although esbuild runs without keepNames (see build-dist.mjs).
 */
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, inject, it } from "vitest";

const bundle = dirname(dirname(inject("bentoCli")));

describe("the bundle", () => {
  it.each(["index", "modules/postgres", "modules/redis", "modules/mariadb", "testing/vitest", "testing/global-fixtures"])("exports from %s.js under their own names", async (entry) => {
    const exports = (await import(pathToFileURL(join(bundle, `${entry}.js`)).href)) as Record<string, unknown>;
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
