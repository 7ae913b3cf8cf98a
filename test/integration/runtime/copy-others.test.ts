import { isRoot, testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Container, Image, Store, Volume, type ContainerOptions, type StoppedContainer } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";

// Files that a container user other than root makes (a 0600 file, a 0700 directory) belong,
// rootless, to the user's subordinate ids, which the user may not read on the host: copying
// them out of a stopped container or exporting their volume still works, as it does as root.
// Without a subordinate range such users cannot exist (asserted), and root's files are copied.

const made: string[] = [];
afterEach(() => {
  expect(leftovers(made.splice(0))).toEqual([]);
});

/** The container user that makes the files: app (1000) where it can exist, else root. */
const maker = onlyRootInContainers ? undefined : "app";
/** The owner the maker's files have in a container. */
const makerId = maker ? "1000:1000" : "0:0";
/** The owner of a copy on the host: as root, the container's; rootless, the user's (as `docker cp`). */
const copiedOwner = isRoot ? { uid: 1000, gid: 1000 } : { uid: process.getuid!(), gid: process.getgid!() };

const MAKE = (dir: string) => `set -e; cd ${dir}; echo key > key; chmod 0600 key; mkdir mine; echo secret > mine/f; chmod 0600 mine/f; chmod 0700 mine; ln -s /etc mine/etc; ln -s ../../../../../../../etc mine/up`;

async function stoppedAfter(script: string, options: ContainerOptions = {}): Promise<StoppedContainer> {
  const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sh", "-c", script], user: maker ?? "0", ...options }).start();
  made.push(running.id);
  const exit = await running.wait();
  expect({ exit: exit.exitCode, logs: await running.logs() }).toEqual({ exit: 0, logs: "" });
  return running.stop();
}

/** Path, kind, mode and owner of each entry (the tree's own first), and each file's content. */
function describeTree(path: string, rel = "."): string[] {
  const st = lstatSync(path);
  const kind = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "f";
  const what = st.isSymbolicLink() ? readlinkSync(path) : st.isFile() ? readFileSync(path, "utf8").trim() : "";
  const fields = st.isSymbolicLink() ? [rel, kind, what] : [rel, kind, (st.mode & 0o7777).toString(8), `${st.uid}:${st.gid}`, what];
  const out = [fields.filter((f) => f !== "").join(" ")];
  if (st.isDirectory()) for (const name of readdirSync(path).sort()) out.push(...describeTree(join(path, name), join(rel, name)));
  return out;
}

const own = `${copiedOwner.uid}:${copiedOwner.gid}`;
const expectedMine = ["mine d 700 " + own, "mine/etc l /etc", "mine/f f 600 " + own + " secret", "mine/up l ../../../../../../../etc"];

describe("copying out files that other container users made", () => {
  it("copies a 0600 file and a 0700 directory out of a stopped container, with contents and modes", async () => {
    if (onlyRootInContainers) await expect(new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"], user: "app" }).start()).rejects.toThrow(unmappedUserError);
    const stopped = await stoppedAfter(MAKE("/tmp"));
    const out = mkdtempSync(join(testRoot, "cp-others-"));
    await stopped.copyFrom("/tmp/key", join(out, "key"));
    await stopped.copyFrom("/tmp/mine", join(out, "mine"));
    expect(describeTree(join(out, "key"), "key")).toEqual([`key f 600 ${own} key`]);
    expect(describeTree(join(out, "mine"), "mine")).toEqual(expectedMine);
    // A file inside the directory the user cannot search, and through its symlinks: they are
    // followed inside the container, as it would, so its /etc/passwd comes out, not the host's.
    await stopped.copyFrom("/tmp/mine/f", join(out, "f"));
    await stopped.copyFrom("/tmp/mine/etc/passwd", join(out, "passwd"));
    await stopped.copyFrom("/tmp/mine/up/passwd", join(out, "passwd-up"));
    expect(readFileSync(join(out, "f"), "utf8")).toBe("secret\n");
    const containerPasswd = readFileSync(join(busyboxRootfs(), "etc/passwd"), "utf8");
    expect(readFileSync(join(out, "passwd"), "utf8")).toBe(containerPasswd);
    expect(readFileSync(join(out, "passwd-up"), "utf8")).toBe(containerPasswd);
    await expect(stopped.copyFrom("/tmp/key/x", join(out, "x"))).rejects.toMatchObject({ code: "ERR_NOT_FOUND", message: `copyFrom: /tmp/key/x does not exist in container ${stopped.name}` });
    await expect(stopped.copyFrom("/tmp/mine/nothing", join(out, "nothing"))).rejects.toMatchObject({ code: "ERR_NOT_FOUND", message: `copyFrom: /tmp/mine/nothing does not exist in container ${stopped.name}` });
    // No staging directory is left beside the copies.
    expect(readdirSync(out).sort()).toEqual(["f", "key", "mine", "passwd", "passwd-up"]);
    await stopped.remove();
  });

  it("copies into a 0700 directory another container user made in a stopped container, resolving paths inside it", async () => {
    const stopped = await stoppedAfter(MAKE("/tmp"));
    const out = mkdtempSync(join(testRoot, "cp-into-"));
    writeFileSync(join(out, "new.txt"), "new\n", { mode: 0o640 });
    await stopped.copyTo(join(out, "new.txt"), "/tmp/mine");
    await stopped.copyTo(Buffer.from("buffer\n"), "/tmp/mine/sub/buf");
    // Symlinks the container made are followed inside it: these land in its /etc, not the host's.
    await stopped.copyTo(Buffer.from("via link\n"), "/tmp/mine/etc/bento-cp-link");
    await stopped.copyTo(Buffer.from("via up\n"), `/tmp/mine/up/bento-cp-up-${process.pid}`);
    expect(existsSync(`/etc/bento-cp-up-${process.pid}`)).toBe(false);
    // A file that replaces one the container user made.
    await stopped.copyTo(Buffer.from("replaced\n"), "/tmp/mine/f");
    expect(readdirSync(out)).toEqual(["new.txt"]);
    const tag = `bento-test/others-into:${process.pid}`;
    const { id } = await stopped.commit({ tag });
    await stopped.remove();
    const check = await new Container(Image.from(tag), {
      command: ["sh", "-c", `cd /tmp/mine && stat -c '%n %a %u:%g' . new.txt sub sub/buf f && cat new.txt sub/buf f /etc/bento-cp-link /etc/bento-cp-up-${process.pid}`],
    }).start();
    made.push(check.id);
    await check.wait();
    expect(await check.logs()).toBe(`. 700 ${makerId}\nnew.txt 640 0:0\nsub 755 0:0\nsub/buf 644 0:0\nf 644 0:0\nnew\nbuffer\nreplaced\nvia link\nvia up\n`);
    await (await check.stop()).remove();
    await Store.default().removeImage(id, { force: true });
  });

  it("copies and exports a volume's files that another container user made, keeping modes and owners", async () => {
    const volume = await new Volume(`others-${process.pid}`).create();
    const mounts = [{ volume: volume.name, target: "/home/app" }];
    // The user's own volume is root's: root hands it to app first (with a file, so the next
    // container does not fill the still empty volume from the image again).
    await (await stoppedAfter(`touch /home/app/key && chown ${makerId} /home/app /home/app/key`, { mounts, user: "0" })).remove();
    // A second name of the 0600 file: the export records its owner and mode for both.
    const stopped = await stoppedAfter(`${MAKE("/home/app")}; ln key hard`, { mounts });
    const out = mkdtempSync(join(testRoot, "cp-volume-"));
    await stopped.copyFrom("/home/app/mine", join(out, "mine"));
    await stopped.copyFrom("/home/app", join(out, "home"));
    expect(describeTree(join(out, "mine"), "mine")).toEqual(expectedMine);
    expect(describeTree(join(out, "home"), "home")).toEqual([`home d 755 ${own}`, `home/hard f 600 ${own} key`, `home/key f 600 ${own} key`, ...expectedMine.map((line) => `home/${line}`)]);
    await stopped.remove();

    const archive = join(out, "volume.tar");
    await volume.export(archive);
    const restored = await Volume.import(archive, `others-copy-${process.pid}`);
    const check = await new Container(Image.fromRootfs(busyboxRootfs()), {
      command: ["sh", "-c", "cd /v && stat -c '%n %a %u:%g %h' hard key mine mine/f && cat key mine/f && readlink mine/etc"],
      mounts: [{ volume: restored.name, target: "/v" }],
    }).start();
    made.push(check.id);
    await check.wait();
    expect(await check.logs()).toBe(`hard 600 ${makerId} 2\nkey 600 ${makerId} 2\nmine 700 ${makerId} 2\nmine/f 600 ${makerId} 1\nkey\nsecret\n/etc\n`);
    await (await check.stop()).remove();
    expect(readdirSync(join(process.env.BENTO_HOME!, "volumes", volume.name))).toEqual(["_data", "volume.json"]);
    await volume.remove();
    await restored.remove();
    expect(existsSync(join(process.env.BENTO_HOME!, "volumes", volume.name))).toBe(false);
  });

  it("fills a new volume from an image whose directory another user made, keeping modes and owners", async () => {
    const stopped = await stoppedAfter(MAKE("/tmp"));
    const tag = `bento-test/others:${process.pid}`;
    const { id } = await stopped.commit({ tag });
    await stopped.remove();
    const volume = `others-fill-${process.pid}`;
    const check = await new Container(Image.from(tag), {
      command: ["sh", "-c", "cd /tmp/mine && stat -c '%n %a %u:%g' . f && cat f && readlink etc"],
      mounts: [{ volume, target: "/tmp/mine" }],
    }).start();
    made.push(check.id);
    await check.wait();
    expect(await check.logs()).toBe(`. 700 ${makerId}\nf 600 ${makerId}\nsecret\n/etc\n`);
    await (await check.stop()).remove();
    await new Volume(volume).remove();
    await Store.default().removeImage(id, { force: true });
  });
});
