/**
 * `Image.fromHost`: a base image made of the host's own programs and the libraries they load, with
 * no package and no download. A Node HTTP server from the host's `node` answers through a
 * published port; RUN steps use the host's shell; the image is a content-addressed layer (the same
 * programs are a cache hit, and the same files give the same id in another store); bad input names
 * the program and writes nothing.
 */
import "../setup-env.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Container, Image, InvalidOptionError, Store, Wait } from "../../../src/index.js";
import { hostImage } from "../../../src/host/host-image.js";
import { leftovers } from "../leaks.js";

const started: string[] = [];
const stores: string[] = [];
afterEach(() => {
  expect(leftovers(started.splice(0))).toEqual([]);
  for (const dir of stores.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "bento-host-store-"));
  stores.push(dir);
  return Store.open(dir);
}

const server = `
const http = require("node:http");
http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ url: req.url, node: process.version, greeting: require("node:fs").readFileSync("/srv/greeting", "utf8").trim() }));
}).listen(8080, () => console.log("listening"));
`;

describe(`Image.fromHost`, () => {
  it("runs a Node HTTP server from the host's node, built on the host's shell", async () => {
    const base = await Image.fromHost(["sh", "node"]);
    const image = base.workdir("/srv").run("echo 'hello from the host node' > /srv/greeting").expose(8080).cmd(["node", "-e", server]);
    await using web = await new Container(image, { ports: [8080], wait: Wait.forHttp("/ready", 8080) }).start();
    started.push(web.id);
    const res = await fetch(`http://${web.host}:${web.hostPort(8080)}/ping`);
    expect(await res.json()).toEqual({ url: "/ping", node: process.version, greeting: "hello from the host node" });
    expect(await web.logs()).toContain("listening");
    // Only sh and node are in the image: the shell's builtins read it.
    const inside = await web.exec(["sh", "-c", "echo $PATH; read -r first < /etc/passwd; echo $first; test -x /bin/sh && echo /bin/sh runs"]);
    expect(inside.stdout).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nroot:x:0:0:root:/root:/bin/sh\n/bin/sh runs\n");
    expect((await web.exec(["sh", "-c", "cat /etc/passwd"])).exitCode).toBe(127);
  });

  it("is a cache hit the second time, and the same files give the same image id in another store", async () => {
    const a = freshStore();
    const first = await hostImage(["sh", "cat"], { store: a });
    const again = await hostImage(["sh", "cat"], { store: a });
    expect(first.cached).toBe(false);
    expect(again).toEqual({ id: first.id, cached: true });
    const elsewhere = await hostImage(["sh", "cat"], { store: freshStore() });
    expect(elsewhere).toEqual({ id: first.id, cached: false });
    const inspect = await a.inspect(first.id);
    expect(inspect.layers).toHaveLength(1);
  });

  it("takes absolute paths and extra files; a container runs them", async () => {
    const base = await Image.fromHost(["/bin/sh", "cat"], { files: ["/etc/ld.so.cache"] });
    await using c = await new Container(base, { command: ["sh", "-c", "cat /etc/ld.so.cache > /dev/null && echo ok"], wait: Wait.forExit() }).start();
    started.push(c.id);
    expect((await c.logs()).trim()).toBe("ok");
  });

  it("an unknown program or a relative path is an error naming it, and writes nothing", async () => {
    const store = freshStore();
    await expect(hostImage(["sh", "no-such-program-bento"], { store })).rejects.toThrow(InvalidOptionError);
    await expect(hostImage(["no-such-program-bento"], { store })).rejects.toThrow(/"no-such-program-bento" is not an executable in PATH/);
    await expect(hostImage(["bin/sh"], { store })).rejects.toThrow(/"bin\/sh" is a relative path/);
    await expect(hostImage([], { store })).rejects.toThrow(/expected a list of programs/);
    await expect(hostImage(["sh"], { store, files: ["etc/hosts"] })).rejects.toThrow(/not an absolute path/);
    await expect(hostImage(["sh"], { store, files: ["/etc"] })).rejects.toThrow(/"\/etc" is not a file/);
    expect(await store.images()).toEqual([]);
  });
});
