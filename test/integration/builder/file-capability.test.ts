import "../setup-env.js";
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image, Store } from "../../../src/index.js";
import { readTar } from "../../../src/store/tar-reader.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { onlyRootInContainers } from "../rootless.js";
import { expectNoLeaks, runImage } from "./helpers.js";

// A file capability (setcap cap_net_raw+ep, as ping has) that a RUN step or a committed
// container gives a file stays in the layer, in the v2 form images carry; rootless the
// container's root writes it as v3 bound to the user namespace, which bento reads back as v2
// from inside it (and unpacks as v3 again). `probe setcap` writes what setcap writes.

afterEach(() => expectNoLeaks());

/** security.capability of cap_net_raw+ep, v2 (vfs_cap_data, little-endian), as `probe getcap` prints it. */
const NET_RAW = "0100000200200000000000000000000000000000";

/** The security.capability xattr of `path` in the top layer blob of `ref`, in hex. */
async function capabilityInTopLayer(ref: string, path: string): Promise<string | undefined> {
  const store = Store.default();
  const image = await store.resolve(ref);
  const top = image.layers.at(-1)!;
  const tar = Readable.from([await store.readBlob(top.digest)]).pipe(createGunzip());
  let found: string | undefined;
  for await (const entry of readTar(tar, "top layer")) {
    if (entry.path === path) found = entry.xattrs.get("security.capability")?.toString("hex") ?? "none";
  }
  return found;
}

describe("file capabilities in layers", () => {
  it("a RUN step's setcap is kept in the built layer and in containers of the image", async () => {
    const tag = `bento-test/filecap-build:${process.pid}`;
    const { id } = await Image.fromRootfs(busyboxRootfs()).run("cp /bin/probe /bin/pingx && probe setcap /bin/pingx").build({ tag });
    expect(await capabilityInTopLayer(tag, "bin/pingx")).toBe(NET_RAW);
    // The next step and a container see it too (rootless: unpacked with it, bound to the namespace).
    const image = Image.from(tag).run("probe getcap /bin/pingx > /cap-seen");
    expect(await runImage(image, { command: ["sh", "-c", "cat /cap-seen; probe getcap /bin/pingx"] })).toMatchObject({ exitCode: 0, stdout: `${NET_RAW}\n${NET_RAW}\n` });
    await Store.default().removeImage(id, { force: true });
  });

  it("a committed container's setcap is kept in the committed layer, on a file of another owner too", async () => {
    // chown clears a capability: the file gets its owner (where other users exist) first, as
    // `install -o` then setcap would; bento's reading of the tree chowns it again.
    const owner = onlyRootInContainers ? "" : "chown 1000:1000 /bin/pingc &&";
    const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sh", "-c", `cp /bin/probe /bin/pingc && ${owner} probe setcap /bin/pingc && ln /bin/pingc /bin/pingc2`] }).start();
    await running.wait();
    expect(await running.logs()).toBe("");
    const stopped = await running.stop();
    const tag = `bento-test/filecap-commit:${process.pid}`;
    const { id } = await stopped.commit({ tag });
    await stopped.remove();
    expect(await capabilityInTopLayer(tag, "bin/pingc")).toBe(NET_RAW);
    expect(await runImage(Image.from(tag), { command: ["stat", "-c", "%u:%g", "/bin/pingc"] })).toMatchObject({ stdout: onlyRootInContainers ? "0:0\n" : "1000:1000\n" });
    // A second name of the file (a hard link, taken after the first lost its capability to chown) has it too.
    expect(await runImage(Image.from(tag), { command: ["sh", "-c", "probe getcap /bin/pingc && probe getcap /bin/pingc2"] })).toMatchObject({ exitCode: 0, stdout: `${NET_RAW}\n${NET_RAW}\n` });
    await Store.default().removeImage(id, { force: true });
  });
});
