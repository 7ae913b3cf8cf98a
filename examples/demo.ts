/**
 * bento's demo: an image defined and built in code (with a cached rebuild), a container with a
 * published port and resource limits, a look at its isolation, and a teardown that leaves
 * nothing behind.
 *
 *   npm run demo                   # uses a busybox-static root filesystem it makes
 *   npm run demo -- /path/rootfs   # or your own root filesystem (it needs /bin/sh and httpd)
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Container, Image, Store, type BuildProgressEvent } from "../src/index.js";
import { ensureBusyboxRootfs } from "./busybox-rootfs.js";

const rootfs = process.argv[2] ?? ensureBusyboxRootfs(join(tmpdir(), "bento-demo-rootfs"));
const step = (text: string) => console.log(`\n== ${text}`);

step(`image: a plan in code over the root filesystem ${rootfs}`);
const image = Image.fromRootfs(rootfs)
  .env({ GREETING: "hello from a bento container" })
  .workdir("/srv/www")
  .run('echo "<h1>$GREETING</h1>" > index.html && date -u > built-at.txt')
  .label({ "org.example.demo": "true" })
  .expose(8080)
  .cmd(["sh", "-c", "echo serving && exec httpd -f -v -p 8080 -h /srv/www"]);
console.log(image.toDockerfile());

const progress = (e: BuildProgressEvent) => {
  if (e.type === "step") console.log(`  step ${e.step}/${e.total} ${e.cached ? "CACHED " : ""}${e.instruction}`);
};
step("build: RUN steps run in build containers; the result is an image in bento's store");
let t = performance.now();
const built = await image.build({ tag: "bento-demo/web:latest", onProgress: progress });
console.log(`built ${built.id.slice(7, 19)} with ${built.layers.length} layers in ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
await image.build({ tag: "bento-demo/web:latest", onProgress: progress });
console.log(`rebuilt from the cache in ${(performance.now() - t).toFixed(1)} ms`);

step("start: 64 MiB of memory, half a CPU, 64 processes, port 8080 published");
const t0 = performance.now();
const web = await new Container(image, { name: "bento-demo-web", resources: { memory: "64m", cpus: 0.5, pids: 64 }, ports: [8080] }).start();
console.log(`started ${web.name} (${web.id.slice(0, 12)}) in ${(performance.now() - t0).toFixed(1)} ms; init is host pid ${web.pid}`);
for await (const line of web.followLogs()) if (line.text.includes("serving")) break;

step("published port: the same host port answers on 127.0.0.1 and ::1");
const port = web.hostPort(8080);
for (const host of ["127.0.0.1", "[::1]"]) {
  const res = await fetch(`http://${host}:${port}/`);
  console.log(`GET http://${host}:${port}/ -> ${res.status} ${(await res.text()).trim()}`);
}

step("isolation, seen from inside (exec joins the container's namespaces and cgroups)");
const inside = await web.exec(["sh", "-c", "echo hostname: $(hostname); echo interfaces: $(ls /sys/class/net); echo processes:; ps -o pid,user,comm"]);
console.log(inside.stdout.trimEnd());
const stats = await web.stats();
console.log(`memory in use ${(stats.memoryBytes / 2 ** 20).toFixed(1)} MiB, ${stats.pids} processes (limits: ${JSON.stringify((await web.inspect()).limits)})`);

step("limits: a 128 MiB allocation in a 32 MiB container is OOM-killed");
const hog = await new Container(image, { command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"], resources: { memory: "32m" }, ports: [] }).start();
console.log(await hog.wait());
await (await hog.stop()).remove();

step("teardown: stop (SIGTERM via init) and remove");
const stopped = await web.stop();
console.log(`stopped: exit ${stopped.exitCode} (${stopped.signal ?? "no signal"}); last log line: ${(await stopped.logs({ tail: 1 })).trim()}`);
await stopped.remove();
await Store.default().removeImage("bento-demo/web:latest");
const home = process.env.BENTO_HOME ?? join(process.env.HOME ?? "/root", ".local/share/bento");
const left = existsSync(join(home, "containers")) ? readdirSync(join(home, "containers")) : [];
console.log(`containers left in ${home}: ${left.length}`);
