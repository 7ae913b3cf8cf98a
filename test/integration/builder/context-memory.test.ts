import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import "../../../src/builder/index.js";
import "../../../src/registry/store.js";
import { Image } from "../../../src/image/image.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, makeContext, runImage } from "./helpers.js";

afterEach(() => expectNoLeaks());

describe("an Image built with a context remembers it", () => {
  it("a container started later, from another working directory, reads COPY sources from that context", async () => {
    const context = makeContext({ "greeting.txt": "from the context\n" });
    // The working directory holds a file of the same name: a fallback to the cwd would copy it.
    const elsewhere = makeContext({ "greeting.txt": "from the working directory\n" });
    const image = Image.fromRootfs(busyboxRootfs()).copy("greeting.txt", "/greeting.txt").cmd(["cat", "/greeting.txt"]);
    await image.build({ context });

    const cwd = process.cwd();
    process.chdir(elsewhere);
    try {
      const run = await runImage(image);
      expect(run).toEqual({ exitCode: 0, stdout: "from the context\n", stderr: "" });
      expect(image.toPlan().context).toBe(context);
    } finally {
      process.chdir(cwd);
    }
  });

  it("a build that fails remembers nothing", async () => {
    const image = Image.fromRootfs(busyboxRootfs()).copy("greeting.txt", "/greeting.txt").cmd(["cat", "/greeting.txt"]);
    const empty = makeContext({});
    await expect(image.build({ context: empty })).rejects.toThrow(/greeting\.txt/);
    expect(image.toPlan().context).toBeUndefined();
  });
});
