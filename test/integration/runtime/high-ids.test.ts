import { isRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { Container, Image, Store } from "../../../src/index.js";
import { idMapping, unmappedIds } from "../../../src/runtime/user-namespace.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { putLayer, tarOf } from "../store/helpers.js";

// Container ids past the rootless user namespace's map (70000: the .ci/rootless range is 65536,
// so the map holds 0..65536) never silently become root's: an image file of such an owner and
// a container or exec user with such an id fail, naming what and the fix (a larger range).
// As root every id exists.

const made: string[] = [];
afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

const HIGH = 70000;
/** True where a container cannot hold id 70000 (rootless with a range that ends below it). */
const beyondMap = !isRoot && !onlyRootInContainers && unmappedIds([HIGH], idMapping().uidMap).length > 0;
const fix = /usermod --add-subuids 100000-169999 --add-subgids 100000-169999 /;

describe("ids beyond the user namespace's map", () => {
  it("unpacks an image file owned by 70000 as root; rootless refuses it naming the file, the owner and the fix", async () => {
    const store = Store.default();
    const baseTag = `bento-test/high-base:${process.pid}`;
    const tag = `bento-test/high:${process.pid}`;
    await Image.fromRootfs(busyboxRootfs()).build({ tag: baseTag });
    const base = await store.resolve(baseTag);
    // The base layer unpacked first: the check below sees only what the refused layer left.
    await store.lowerDirs(baseTag);
    // A layer that an image made elsewhere (by root) would carry: a file of a high uid and gid.
    const layer = await putLayer(
      store,
      tarOf([
        { path: "opt/", type: "dir" },
        { path: "opt/high", body: "high\n", uid: HIGH, gid: HIGH },
      ]),
    );
    const { id } = await store.writeImage({ config: base.config, layers: [...base.layers, layer] }, { tags: [tag] });
    const container = new Container(Image.from(tag), { command: ["sh", "-c", "stat -c '%u:%g' /opt/high && cat /opt/high"] });
    if (beyondMap) {
      await expect(container.start()).rejects.toThrow(new RegExp(`image file /opt/high is owned by ${HIGH}:${HIGH}, but rootless a container holds only ids 0\\.\\.\\d+ .*${fix.source}`));
      // Nothing of the refused layer stays in the store (no half-unpacked directory).
      expect(readdirSync(store.layersDir).filter((name) => name.startsWith("tmp-"))).toEqual([]);
    } else {
      const running = await container.start();
      made.push(running.id);
      await running.wait();
      // Without a subordinate range every file is root's, as the one-line notice says.
      expect(await running.logs()).toBe(`${onlyRootInContainers ? "0:0" : `${HIGH}:${HIGH}`}\nhigh\n`);
      await (await running.stop()).remove();
    }
    await store.removeImage(id, { force: true });
    await store.removeImage(baseTag, { force: true });
  });

  it("runs a container and an exec as user 70000 as root; rootless refuses both with the fix", async () => {
    const image = Image.fromRootfs(busyboxRootfs());
    const starting = new Container(image, { command: ["id", "-u"], user: String(HIGH) });
    if (onlyRootInContainers) await expect(starting.start()).rejects.toThrow(unmappedUserError);
    else if (beyondMap) await expect(starting.start()).rejects.toThrow(new RegExp(`container user ${HIGH}:0: rootless, a container holds only ids 0\\.\\.\\d+ .*${fix.source}`));
    else {
      const running = await starting.start();
      made.push(running.id);
      await running.wait();
      expect(await running.logs()).toBe(`${HIGH}\n`);
      await (await running.stop()).remove();
    }
    const running = await new Container(image, { command: ["sleep", "60"] }).start();
    made.push(running.id);
    const exec = running.exec(["id", "-u"], { user: `${HIGH}:0` });
    if (onlyRootInContainers) await expect(exec).rejects.toThrow(unmappedUserError);
    else if (beyondMap) await expect(exec).rejects.toThrow(new RegExp(`exec user ${HIGH}:0: rootless, .*${fix.source}`));
    else expect((await exec).stdout).toBe(`${HIGH}\n`);
    await (await running.stop({ timeoutMs: 0 })).remove();
  });
});
