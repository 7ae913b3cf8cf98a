import { isRoot, testRoot } from "../setup-env.js";
import { execFileSync } from "node:child_process";
import { copyFileSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BuildContextError, BuildStepError } from "../../../src/builder/index.js";
import { LayeredView } from "../../../src/builder/layered-view.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { runHostProgram } from "../../fixtures/host-program.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { tarOf } from "../store/helpers.js";
import { expectNoLeaks, makeContext, runImage } from "./helpers.js";
import { containerOwnerOf } from "../../../src/runtime/rootless-owner.js";

afterEach(() => expectNoLeaks());

/** Every entry of a tree: type, mode, owner, size, mtime in seconds (but a whiteout's), link target; sorted. */
function treeListing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const target = st.isSymbolicLink() ? ` -> ${readlinkSync(path)}` : "";
      // A whiteout (char 0/0) is made at unpack time: its time is the unpack's, not the layer's.
      const time = st.isCharacterDevice() ? "-" : Math.floor(st.mtimeMs / 1000);
      out.push(`${rel}${name} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? st.size : "-"} ${time}${target}`);
      if (st.isDirectory()) walk(path, `${rel}${name}/`);
    }
  };
  walk(root, "");
  return out;
}

const store = Store.open(join(testRoot, "store-copy"));

/** The built image's file system, as a view over its layers. */
async function viewOf(image: Image, context?: string): Promise<LayeredView> {
  const built = await image.build({ store, ...(context === undefined ? {} : { context }) });
  return new LayeredView(await store.lowerDirs(built.id));
}

function read(view: LayeredView, path: string): string {
  const entry = view.lookup(view.resolve(path, true));
  if (entry === undefined) throw new Error(`${path} is not in the image`);
  return readFileSync(entry.hostPath, "utf8");
}

function meta(view: LayeredView, path: string): string {
  const entry = view.lookup(view.resolve(path, false));
  if (entry === undefined) return "absent";
  const type = entry.stat.isDirectory() ? "d" : entry.stat.isSymbolicLink() ? "l" : "f";
  // Rootless, the owner a container sees: the user is root, the subordinate range 1-65536.
  const owner = containerOwnerOf(entry.stat);
  return `${type} ${(entry.stat.mode & 0o7777).toString(8)} ${owner.uid}:${owner.gid}`;
}

describe(`COPY and ADD read only the context`, () => {
  const base = () => Image.fromRootfs(busyboxRootfs());

  it("refuses `..`, absolute paths and symlinks that leave the context, before building anything", async () => {
    const outside = join(testRoot, "outside-secret.txt");
    writeFileSync(outside, "secret\n");
    const context = makeContext({
      "ok.txt": "ok\n",
      "up-link": { symlink: "../outside-secret.txt" },
      "abs-link": { symlink: outside },
      "dir/inner-link": { symlink: "../../outside-secret.txt" },
      "fine-link": { symlink: "ok.txt" },
    });
    const before = (await store.images()).length;
    const cases: Array<[string, RegExp]> = [
      ["../outside-secret.txt", /leaves the build context/],
      ["dir/../../outside-secret.txt", /leaves the build context/],
      [outside, /absolute path/],
      ["up-link", /climbs out of the build context/],
      ["abs-link", /points to the absolute path/],
      ["dir/inner-link", /climbs out of the build context/],
    ];
    for (const [source, reason] of cases) {
      const error = await base()
        .copy(source, "/x")
        .run("echo must not run")
        .build({ store, context })
        .catch((e: unknown) => e);
      expect(error, source).toBeInstanceOf(BuildContextError);
      expect((error as BuildContextError).code).toBe("ERR_BUILD_CONTEXT");
      expect((error as BuildContextError).reason).toMatch(reason);
      expect((error as BuildContextError).step).toBe(2);
    }
    expect((await store.images()).length).toBe(before);
    // A symlink inside the context is followed; the copy gets the target's content.
    expect(read(await viewOf(base().copy("fine-link", "/copied.txt"), context), "copied.txt")).toBe("ok\n");
  });

  it("honours .dockerignore: ignored files are not copied, and naming one is an error", async () => {
    const context = makeContext({
      ".dockerignore": "secret.txt\nlogs\n**/*.tmp\n!keep.tmp\n",
      "secret.txt": "s\n",
      "app/main.js": "main\n",
      "app/cache.tmp": "tmp\n",
      "keep.tmp": "keep\n",
      "logs/a.log": "log\n",
    });
    const view = await viewOf(base().copy(".", "/ctx/"), context);
    expect(view.readdir("ctx")).toEqual([".dockerignore", "app", "keep.tmp"]);
    expect(view.readdir("ctx/app")).toEqual(["main.js"]);
    const error = await base()
      .copy("secret.txt", "/s")
      .build({ store, context })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildContextError);
    expect((error as BuildContextError).reason).toMatch(/excluded by \.dockerignore/);
    const wildcard = await viewOf(base().copy("*.tmp", "/w/"), context);
    expect(wildcard.readdir("w")).toEqual(["keep.tmp"]);
  });

  it("follows Docker's destination rules: directory contents, trailing slash, WORKDIR, wildcards, several sources", async () => {
    const context = makeContext({ "a.txt": "a\n", "b.txt": "b\n", "src/x/y.txt": "y\n", "src/top.txt": "top\n" });
    const view = await viewOf(base().workdir("/work").copy("a.txt", "renamed.txt").copy("a.txt", "dir/").copy("src", "/srcdir").copy(["a.txt", "b.txt"], "/multi/").copy("*.txt", "/glob/").copy("b.txt", "/work"), context);
    expect(read(view, "work/renamed.txt")).toBe("a\n");
    expect(read(view, "work/dir/a.txt")).toBe("a\n");
    expect(read(view, "srcdir/x/y.txt")).toBe("y\n");
    expect(view.readdir("srcdir")).toEqual(["top.txt", "x"]);
    expect(view.readdir("multi")).toEqual(["a.txt", "b.txt"]);
    expect(view.readdir("glob")).toEqual(["a.txt", "b.txt"]);
    expect(read(view, "work/b.txt")).toBe("b\n"); // an existing directory takes the file by its name
    const error = await base()
      .copy(["a.txt", "b.txt"], "/nodir")
      .build({ store, context })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildStepError);
    expect((error as Error).message).toMatch(/must be a directory and end with "\/"/);
    const missing = await base()
      .copy("nope.txt", "/x")
      .build({ store, context })
      .catch((e: unknown) => e);
    expect((missing as BuildContextError).reason).toMatch(/not found in the build context/);
  });

  it("applies --chown (names from the image's /etc/passwd and /etc/group) and --chmod, and keeps modes otherwise", async () => {
    const context = makeContext({ "run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o750 }, "d/f.txt": "f\n" });
    const chowned = (image: Image) => image.copy("run.sh", "/named/", { chown: "app:extra" }).copy("run.sh", "/numeric/", { chown: "1234" }).copy("d", "/new/parent/dir/", { chown: "app" });
    // Rootless without a subordinate id range only id 0 exists: --chown to another owner is refused, naming the fix.
    if (onlyRootInContainers) await expect(chowned(base()).build({ store, context })).rejects.toThrow(unmappedUserError);
    const plain = base().copy("run.sh", "/plain/").copy("d", "/chmodded/", { chmod: "0640" });
    const view = await viewOf(onlyRootInContainers ? plain : chowned(plain), context);
    expect(meta(view, "plain/run.sh")).toBe("f 750 0:0");
    expect(meta(view, "chmodded/f.txt")).toBe("f 640 0:0");
    expect(meta(view, "etc")).toBe("d 755 0:0");
    if (!onlyRootInContainers) {
      expect(meta(view, "named/run.sh")).toBe("f 750 1000:2000");
      expect(meta(view, "numeric/run.sh")).toBe("f 750 1234:1234"); // no group: the uid is the gid, as Docker documents
      expect(meta(view, "new/parent/dir/f.txt")).toBe("f 644 1000:1000");
      expect(meta(view, "new/parent")).toBe("d 755 1000:1000"); // new directories get the --chown owner too
    }
    const error = await base()
      .copy("run.sh", "/x", { chown: "nobody-here" })
      .build({ store, context })
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no user "nobody-here" in the image's \/etc\/passwd/);
  });

  it("copies heredocs (COPY <<EOF) with $VAR expanded unless the delimiter is quoted", async () => {
    const image = Image.fromDockerfile({
      dockerfile: `FROM ${"scratch"}\nENV NAME=world\nCOPY <<EOF /hello.txt\nhello $NAME\nEOF\nCOPY <<'EOF' /raw.txt\nhello $NAME\nEOF\nCOPY --chmod=755 <<EOF /bin-dir/\n#!/bin/sh\nEOF\n`,
    });
    const view = await viewOf(image);
    expect(read(view, "hello.txt")).toBe("hello world\n");
    expect(read(view, "raw.txt")).toBe("hello $NAME\n");
    expect(meta(view, "bin-dir/EOF")).toBe("f 755 0:0");
  });

  it("follows the image's symlinks on the way to the destination", async () => {
    const context = makeContext({ tool: "tool\n" });
    const view = await viewOf(base().run("mkdir -p /usr/real && ln -s usr/real /linked").copy("tool", "/linked/"), context);
    expect(meta(view, "linked")).toBe("l 777 0:0");
    expect(read(view, "usr/real/tool")).toBe("tool\n");
  });
});

describe(`ADD`, () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/files/tool.tar.gz") {
        res.writeHead(200, { "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT" });
        res.end("not really an archive, and not extracted");
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("extracts local tar, tar.gz, tar.bz2 and tar.xz archives, and copies other files as they are", async () => {
    const context = makeContext({ "payload/dir/file.txt": "inside\n", "plain.gz.txt": "just text\n" });
    // Root's entries: rootless without a subordinate range an archive of the user's own ids is refused (see below).
    execFileSync("tar", ["--owner=0", "--group=0", "-cf", join(context, "a.tar"), "-C", join(context, "payload"), "dir"]);
    const tarPath = join(context, "a.tar");
    runHostProgram("gzip", ["-k", tarPath], "gzip");
    runHostProgram("bzip2", ["-k", tarPath], "bzip2");
    runHostProgram("xz", ["-k", tarPath], "xz-utils");
    copyFileSync(`${tarPath}.gz`, join(context, "renamed.bin"));
    const view = await viewOf(Image.fromRootfs(busyboxRootfs()).add("a.tar", "/tar/").add("a.tar.gz", "/gz").add("a.tar.bz2", "/bz2/").add("a.tar.xz", "/xz/").add("renamed.bin", "/magic/").add("plain.gz.txt", "/plain/"), context);
    for (const dir of ["tar", "gz", "bz2", "xz", "magic"]) expect(read(view, `${dir}/dir/file.txt`), dir).toBe("inside\n");
    expect(read(view, "plain/plain.gz.txt")).toBe("just text\n");
  });

  it("keeps an archive's absolute symlinks as they are and its hardlinks as hardlinks, and refuses a hardlink to outside the archive", async () => {
    const context = makeContext({ "payload/dir/file.txt": "inside\n" });
    execFileSync("sh", ["-c", "ln -s /etc/passwd dir/abs && ln -s file.txt dir/rel && ln dir/file.txt dir/hard && tar --owner=0 --group=0 -cf ../links.tar dir"], { cwd: join(context, "payload") });
    writeFileSync(join(context, "outside.tar"), tarOf([{ path: "shadow", type: "link", linkpath: "../../etc/shadow" }]));
    writeFileSync(join(context, "missing.tar"), tarOf([{ path: "hard", type: "link", linkpath: "not-in-archive" }]));
    const view = await viewOf(Image.fromRootfs(busyboxRootfs()).add("links.tar", "/x/"), context);
    expect(meta(view, "x/dir/abs")).toBe("l 777 0:0");
    expect(readlinkSync(view.lookup("x/dir/abs")!.hostPath)).toBe("/etc/passwd");
    expect(readlinkSync(view.lookup("x/dir/rel")!.hostPath)).toBe("file.txt");
    expect(read(view, "x/dir/hard")).toBe("inside\n");
    expect(view.lookup("x/dir/hard")!.stat.ino).toBe(view.lookup("x/dir/file.txt")!.stat.ino);
    for (const [archive, why] of [
      ["outside.tar", /entry "shadow" is a hardlink to "\.\.\/\.\.\/etc\/shadow", which is outside the archive/],
      ["missing.tar", /entry "hard" is a hardlink to "not-in-archive", which is not in this/],
    ] as const) {
      const error = await Image.fromRootfs(busyboxRootfs())
        .add(archive, "/y/")
        .build({ store, context })
        .catch((e: unknown) => e);
      expect(error, archive).toBeInstanceOf(BuildStepError);
      expect(String((error as Error).message) + String((error as Error).cause), archive).toMatch(why);
    }
  });

  it("extracts through the image's own symlinks as in the container (an archive's lnk/foo onto an image whose /lnk -> real writes /real/foo and keeps the link)", async () => {
    const context = makeContext({});
    writeFileSync(
      join(context, "through.tar"),
      tarOf([
        { path: "lnk/foo", body: "foo\n" },
        { path: "abs/bar", body: "bar\n" },
        { path: "lnk/hard", type: "link", linkpath: "lnk/foo" },
      ]),
    );
    const view = await viewOf(Image.fromRootfs(busyboxRootfs()).run("mkdir -p /real /opt && echo keep > /real/keep && ln -s real /lnk && ln -s /real /opt/abs").add("through.tar", "/").add("through.tar", "/opt/"), context);
    expect(readlinkSync(view.lookup("lnk")!.hostPath)).toBe("real");
    expect(view.readdir("real")).toEqual(["bar", "foo", "hard", "keep"]);
    expect(view.lookup("real/hard")!.stat.ino).toBe(view.lookup("real/foo")!.stat.ino);
    // Under /opt/: lnk is new there, abs is the image's absolute link to /real.
    expect(read(view, "opt/lnk/foo")).toBe("foo\n");
    expect(readlinkSync(view.lookup("opt/abs")!.hostPath)).toBe("/real");
    expect(read(view, "real/bar")).toBe("bar\n");
  });

  it("keeps an archive's device node as root, and rootless refuses it naming the entry instead of dropping it", async () => {
    const context = makeContext({});
    writeFileSync(
      join(context, "dev.tar"),
      tarOf([
        { path: "ok", body: "fine" },
        { path: "null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      ]),
    );
    const built = Image.fromRootfs(busyboxRootfs()).add("dev.tar", "/d/");
    if (isRoot) {
      const view = await viewOf(built, context);
      expect(view.lookup("d/null")!.stat.isCharacterDevice()).toBe(true);
      expect(view.lookup("d/null")!.stat.rdev).toBe(statSync("/dev/null").rdev);
      return;
    }
    const error = await built.build({ store, context }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildStepError);
    expect(String((error as Error).message) + String((error as Error).cause)).toMatch(/entry "null" is a char device 1:3, which cannot be created without CAP_MKNOD \(rootless\); remove it from the archive, or run as root/);
  });

  it("keeps an archive's owners and modes (a setuid file too) as root does; rootless beyond the id map, or without a range, it fails naming the entry and the fix", async () => {
    const context = makeContext({});
    const owned = tarOf([
      { path: "app/", type: "dir", uid: 1000, gid: 1000, mode: 0o750 },
      { path: "app/tool", body: "#!/bin/sh\n", uid: 1000, gid: 1000, mode: 0o4755 },
      { path: "app/root.txt", body: "root\n", uid: 0, gid: 0, mode: 0o640 },
      { path: "app/shared", body: "shared\n", uid: 0, gid: 1000, mode: 0o2770 },
      { path: "app/later", body: "first\n", uid: 1000, gid: 1000, mode: 0o644 },
    ]);
    writeFileSync(join(context, "owned.tar"), owned);
    writeFileSync(join(context, "owned.tar.gz"), gzipSync(owned));
    // A later source of the same step writes app/later again, as root's: the last owner holds.
    writeFileSync(join(context, "later.tar"), tarOf([{ path: "app/later", body: "second\n", uid: 0, gid: 0, mode: 0o600 }]));
    writeFileSync(join(context, "beyond.tar"), tarOf([{ path: "high", body: "x", uid: 3_000_000, gid: 3_000_000 }]));
    const image = Image.fromRootfs(busyboxRootfs()).add("owned.tar", "/plain/").add(["owned.tar.gz", "later.tar"], "/gz/");
    const failure = (built: Promise<unknown>) =>
      built.then(
        () => "built",
        (e: unknown) => `${(e as Error).message} ${String((e as Error).cause)}`,
      );
    if (onlyRootInContainers) {
      // Without a subordinate range only id 0 exists; the layer would bake root's owners into the image, so it is refused.
      const error = await failure(image.build({ context }));
      expect(error).toMatch(unmappedUserError);
      expect(error).toMatch(/ADD owned\.tar: entry "app\/?": owner 1000:1000/);
      return;
    }
    const built = await image.build({ context });
    const stat = await runImage(Image.from(built.id), { command: ["stat", "-c", "%n %u:%g %a", ...["plain", "gz"].flatMap((d) => ["app", "app/tool", "app/root.txt", "app/shared", "app/later"].map((f) => `/${d}/${f}`))] });
    expect(stat.stderr).toBe("");
    const expected = (d: string, later: string) => [`/${d}/app 1000:1000 750`, `/${d}/app/tool 1000:1000 4755`, `/${d}/app/root.txt 0:0 640`, `/${d}/app/shared 0:1000 2770`, `/${d}/app/later ${later}`];
    expect(stat.stdout.trim().split("\n")).toEqual([...expected("plain", "1000:1000 644"), ...expected("gz", "0:0 600")]);
    const beyond = await failure(Image.fromRootfs(busyboxRootfs()).add("beyond.tar", "/b/").build({ context }));
    if (isRoot) expect(beyond).toBe("built");
    else expect(beyond).toMatch(/ADD beyond\.tar: entry "high": owner 3000000:3000000: rootless, a container holds only ids 0\.\.\d+ .*usermod --add-subuids/s);
  });

  it("downloads a URL without extracting it (mode 0600, time from Last-Modified); a 404 fails the step", async () => {
    const view = await viewOf(Image.fromRootfs(busyboxRootfs()).add(`${url}/files/tool.tar.gz`, "/downloads/"));
    expect(read(view, "downloads/tool.tar.gz")).toBe("not really an archive, and not extracted");
    expect(meta(view, "downloads/tool.tar.gz")).toBe("f 600 0:0");
    expect(view.lookup("downloads/tool.tar.gz")?.stat.mtimeMs).toBe(Date.parse("2015-10-21T07:28:00Z"));
    const error = await Image.fromRootfs(busyboxRootfs())
      .add(`${url}/missing`, "/x")
      .build({ store })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildContextError);
    expect((error as Error).message).toMatch(/404/);
  });

  it("runs the result: a copied script from a built image", async () => {
    const context = makeContext({ "hello.sh": { content: "#!/bin/sh\necho hello from $0\n", mode: 0o755 } });
    const built = await Image.fromRootfs(busyboxRootfs()).copy("hello.sh", "/usr/local/bin/").cmd(["hello.sh"]).build({ context });
    expect((await runImage(Image.from(built.id))).stdout).toBe("hello from /usr/local/bin/hello.sh\n");
  });
});

describe(`a COPY layer's directory`, () => {
  it("is what unpacking the layer's blob gives, also for names a layer tar rewrites", async () => {
    const context = makeContext({ "a.txt": "a", "dir/run.sh": { content: "#!/bin/sh\n", mode: 0o750 }, "dir/link": { symlink: "../a.txt" }, "plain/.wh.kept": "a file, not a deletion" });
    for (const source of ["dir", "plain"]) {
      const built = await Image.fromRootfs(busyboxRootfs()).copy(source, `/${source}`).build({ store, context });
      const layer = (await store.resolve(built.id)).layers.at(-1)!;
      const own = await store.layerDir(layer.diffId, layer);
      const other = Store.open(join(testRoot, `store-copy-unpack-${source}`));
      const { dir: unpacked } = await other.unpackLayerFile(store.blobPath(layer.digest), layer);
      expect(treeListing(own)).toEqual(treeListing(unpacked));
      expect(treeListing(own).length).toBeGreaterThan(0);
    }
  });
});
