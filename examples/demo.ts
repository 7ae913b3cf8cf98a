/**
 * bento's demo: an image defined and built in code (with a cached rebuild), a container with a
 * published port and resource limits (where cgroups allow them: root, or a delegated subtree), a look at its isolation, and a teardown that leaves
 * nothing behind. It needs nothing installed: the base image is made of this machine's own
 * shell, coreutils and the Node that runs the demo (Image.fromHost).
 *
 *   npm run demo
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Container, doctor, Image, Store, type BuildProgressEvent } from "../src/index.js";

const step = (text: string) => console.log(`\n== ${text}`);

const server = `
const http = require("node:http");
const page = require("node:fs").readFileSync("/srv/www/index.html", "utf8");
http.createServer((req, res) => {
  console.log(req.method, req.url);
  res.setHeader("content-type", "text/html");
  res.end(page);
}).listen(8080, "::", () => console.log("serving"));
`;

step("base: the host's own sh, coreutils and node, and the libraries they load, as one layer");
let t = performance.now();
const base = await Image.fromHost(["sh", "node", "cat", "ls", "date", "dd"]);
const from = base.toPlan().steps[0];
const baseId = from?.kind === "from" && from.base.type === "ref" ? from.base.ref : "";
console.log(`base image ${baseId.slice(7, 19)} in ${(performance.now() - t).toFixed(0)} ms (the next run finds it in the store)`);

step("image: a plan in code over that base");
const image = base.env({ GREETING: "hello from a bento container" }).workdir("/srv/www").run('echo "<h1>$GREETING</h1>" > index.html && date -u > built-at.txt').label({ "org.example.demo": "true" }).expose(8080).cmd(["node", "-e", server]);
console.log(image.toDockerfile());

const progress = (e: BuildProgressEvent) => {
  if (e.type === "step") console.log(`  step ${e.step}/${e.total} ${e.cached ? "CACHED " : ""}${e.instruction}`);
};
step("build: RUN steps run in build containers; the result is an image in bento's store");
t = performance.now();
const built = await image.build({ tag: "bento-demo/web:latest", onProgress: progress });
console.log(`built ${built.id.slice(7, 19)} with ${built.layers.length} layers in ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
await image.build({ tag: "bento-demo/web:latest", onProgress: progress });
console.log(`rebuilt from the cache in ${(performance.now() - t).toFixed(1)} ms`);

// Limits need cgroups bento may write: root's, or (rootless) a delegated cgroup v2 subtree.
const cgroups = (await doctor()).checks.find((c) => c.name === "cgroups");
const limited = cgroups?.status === "ok";
if (!limited) console.log(`\n(no resource limits in this demo: ${cgroups?.detail}\n fix: ${cgroups?.fix})`);

step(`start: ${limited ? "64 MiB of memory, half a CPU, 64 processes, " : ""}port 8080 published`);
const t0 = performance.now();
const web = await new Container(image, { name: "bento-demo-web", ...(limited ? { resources: { memory: "64m", cpus: 0.5, pids: 64 } } : {}), ports: [8080] }).start();
console.log(`started ${web.name} (${web.id.slice(0, 12)}) in ${(performance.now() - t0).toFixed(1)} ms; init is host pid ${web.pid}`);
for await (const line of web.followLogs()) if (line.text.includes("serving")) break;

step("published port: the same host port answers on 127.0.0.1 and ::1");
const port = web.hostPort(8080);
for (const host of ["127.0.0.1", "[::1]"]) {
  const res = await fetch(`http://${host}:${port}/`);
  console.log(`GET http://${host}:${port}/ -> ${res.status} ${(await res.text()).trim()}`);
}

step("isolation, seen from inside (exec joins the container's namespaces and cgroups)");
const inside = await web.exec(["sh", "-c", 'echo hostname: $(cat /etc/hostname); echo interfaces: $(ls /sys/class/net); echo processes:; for p in /proc/[0-9]*; do echo "  ${p#/proc/} $(cat $p/comm)"; done']);
console.log(inside.stdout.trimEnd());
const stats = await web.stats();
console.log(`memory in use ${(stats.memoryBytes / 2 ** 20).toFixed(1)} MiB, ${stats.pids} processes (limits: ${JSON.stringify((await web.inspect()).limits)})`);

if (limited) {
  step("limits: a 128 MiB allocation in a 32 MiB container is OOM-killed");
  const hog = await new Container(image, { command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"], resources: { memory: "32m" }, ports: [] }).start();
  console.log(await hog.wait());
  await (await hog.stop()).remove();
}

step("teardown: stop (SIGTERM via init) and remove");
const stopped = await web.stop();
console.log(`stopped: exit ${stopped.exitCode} (${stopped.signal ?? "no signal"}); last log line: ${(await stopped.logs({ tail: 1 })).trim()}`);
await stopped.remove();
await Store.default().removeImage("bento-demo/web:latest");
const home = process.env.BENTO_HOME ?? join(process.env.HOME ?? "/root", ".local/share/bento");
const left = existsSync(join(home, "containers")) ? readdirSync(join(home, "containers")) : [];
console.log(`containers left in ${home}: ${left.length}`);
