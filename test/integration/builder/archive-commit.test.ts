import { isRoot, testRoot } from "../setup-env.js";
import { idMapping } from "../../../src/runtime/user-namespace.js";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Container } from "../../../src/container/container.js";
import type { ContainerInstance } from "../../../src/container/instance.js";
import type { RunningContainer } from "../../../src/container/running-container.js";
import { commitContainer } from "../../../src/builder/index.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { expectNoLeaks, runImage } from "./helpers.js";

afterEach(() => expectNoLeaks());

// Until RunningContainer.commit() is wired, reach the container's upper dir and image source.
function internals(running: RunningContainer): ContainerInstance {
  return (running as unknown as { instance: ContainerInstance }).instance;
}

describe(`export, import and commit`, () => {
  it("export then import (OCI and docker archives) gives the same image id, and Image.fromArchive runs it", async () => {
    const built = await Image.fromRootfs(busyboxRootfs()).env("FROM_ARCHIVE", "yes").run("echo archived > /archived.txt").cmd(["sh", "-c", "cat /archived.txt; echo $FROM_ARCHIVE"]).build({ tag: "archived:1" });
    for (const format of ["oci", "docker"] as const) {
      const file = join(testRoot, `archived-${format}.tar`);
      await Store.default().export("archived:1", file, { format });
      const other = Store.open(join(testRoot, `import-${format}`));
      const { images } = await other.import(file);
      expect(images.map((i) => i.id)).toEqual([built.id]);
      expect((await other.inspect("archived:1")).id).toBe(built.id);
    }
    // Into this file's default store under a fresh name: the image is the same, found by id.
    const image = await Image.fromArchive(join(testRoot, "archived-docker.tar"));
    expect(image.toPlan().steps).toEqual([{ kind: "from", base: { type: "ref", ref: built.id } }]);
    const rebuilt = await image.build({ tag: "from-archive:1" });
    expect(rebuilt.id).toBe(built.id); // a bare FROM of a stored image is that image
    expect((await runImage(image)).stdout).toBe("archived\nyes\n");
    await expect(Image.fromArchive(join(testRoot, "archived-oci.tar"), { tag: "nope:1" })).rejects.toThrow(/no image .* is tagged "nope:1"/);
  });

  it("commits a running container's changes as a new image, without touching the container", async () => {
    const built = await Image.fromRootfs(busyboxRootfs()).run("echo base > /base.txt").cmd(["sleep", "60"]).build();
    const running = await new Container(Image.from(built.id), { env: { RUNTIME_ONLY: "1" } }).start();
    try {
      await running.exec(["sh", "-c", "echo changed > /changed.txt; rm /base.txt; mkdir -p /var/data && echo d > /var/data/d"]);
      const instance = internals(running);
      const committed = await commitContainer(join(instance.spec.containerDir, "upper"), instance.source, { tag: "committed:1", message: "snapshot" });
      expect(committed.layers.slice(0, built.layers.length)).toEqual(built.layers);
      expect(committed.layers).toHaveLength(built.layers.length + 1);
      const inspect = await Store.default().inspect("committed:1");
      expect(inspect.history.at(-1)).toMatchObject({ created_by: "bento commit", comment: "snapshot" });
      // The layer holds the changes only: no /proc, /dev, /sys or /etc/hosts stubs.
      const layerDir = await Store.default().layerDir(committed.layers.at(-1)!.diffId, committed.layers.at(-1));
      const entries = execFileSync("find", [".", "-mindepth", "1", "-maxdepth", "2"], { cwd: layerDir, encoding: "utf8" }).split("\n").filter(Boolean).sort();
      expect(entries).toEqual(["./base.txt", "./changed.txt", "./var", "./var/data"]);
      expect((await running.exec(["cat", "/changed.txt"])).stdout).toBe("changed\n");
      const { stdout } = await runImage(Image.from("committed:1").cmd(["sh", "-c", "cat /changed.txt /var/data/d; ls /base.txt 2>&1"]));
      expect(stdout).toBe("changed\nd\nls: /base.txt: No such file or directory\n");
    } finally {
      await (await running.stop({ timeoutMs: 500 })).remove();
    }
  });

  it("commits a container that runs a root filesystem directory (imported as the base layer)", async () => {
    const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sleep", "60"] }).start();
    try {
      await running.exec(["sh", "-c", "echo hi > /hi.txt"]);
      const instance = internals(running);
      expect(instance.source.imageId).toBeUndefined();
      const committed = await commitContainer(join(instance.spec.containerDir, "upper"), instance.source, { changes: { Cmd: ["cat", "/hi.txt"] } });
      expect(committed.layers).toHaveLength(2);
      expect((await runImage(Image.from(committed.id))).stdout).toBe("hi\n");
    } finally {
      await (await running.stop({ timeoutMs: 500 })).remove();
    }
  });

  // Rootless, these files belong to subordinate ids the user cannot read: the layers are read
  // from inside the user namespace and still record the container's owners and modes.
  it("keeps the owners and modes container users gave files, in a RUN layer, in the container that runs it, and in a commit", async () => {
    const listing = (digest: string) => execFileSync("tar", ["--numeric-owner", "-tvzf", Store.default().blobPath(digest as `sha256:${string}`)], { encoding: "utf8" });
    const image = Image.fromRootfs(busyboxRootfs()).run("mkdir /owned && echo run > /owned/run && chown -R 1000:1000 /owned && chmod 600 /owned/run && chmod 700 /owned").cmd(["sleep", "60"]);
    if (!isRoot && idMapping().kind === "single") {
      // Without a subordinate range only id 0 exists in the container: its chown fails.
      await expect(image.build()).rejects.toThrow(/chown -R 1000:1000 .*exit code 1/);
      return;
    }
    const built = await image.build();
    expect(listing(built.layers.at(-1)!.digest)).toMatch(/^-rw------- 1000\/1000 .* owned\/run$/m);
    expect(listing(built.layers.at(-1)!.digest)).toMatch(/^drwx------ 1000\/1000 .* owned\/$/m);
    const running = await new Container(Image.from(built.id)).start();
    let committedId = "";
    try {
      // The image's layer is unpacked with its owners (rootless: from inside the user namespace).
      expect((await running.exec(["stat", "-c", "%u:%g %a", "/owned", "/owned/run"])).stdout).toBe("1000:1000 700\n1000:1000 600\n");
      await running.exec(["sh", "-c", "echo made > /owned/made && chown 1001:1002 /owned/made && chmod 4640 /owned/made"]);
      const instance = internals(running);
      const committed = await commitContainer(join(instance.spec.containerDir, "upper"), instance.source, {});
      committedId = committed.id;
      expect(listing(committed.layers.at(-1)!.digest)).toMatch(/^-rwSr----- 1001\/1002 .* owned\/made$/m);
      // The running container's own files are left as they were.
      expect((await running.exec(["stat", "-c", "%u:%g %a", "/owned/made"])).stdout).toBe("1001:1002 4640\n");
    } finally {
      await (await running.stop({ timeoutMs: 500 })).remove();
    }
    // Removing the images deletes the unpacked layer, whose files (rootless) are other owners'.
    const layerDir = await Store.default().layerDir(built.layers.at(-1)!.diffId, built.layers.at(-1));
    await Store.default().removeImage(committedId);
    await Store.default().removeImage(built.id);
    expect(existsSync(layerDir)).toBe(false);
  });
});
