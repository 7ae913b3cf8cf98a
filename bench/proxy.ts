/**
 * Port proxy throughput and connection rate, side by side with direct loopback (issue 5's
 * target: at least half of loopback's throughput). The same static probe serves both: once on
 * the host, once in a container behind bento's proxy.
 *
 *   npx tsx bench/proxy.ts        (also called by bench/run.ts through benchProxy)
 */
import { execFileSync, spawn } from "node:child_process";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Container, Image } from "../src/index.js";
import { ensureBusyboxRootfs } from "../examples/busybox-rootfs.js";

const repo = join(fileURLToPath(import.meta.url), "../..");
const megabytes = Number(process.env.BENCH_PROXY_MB ?? 512);
const requests = Number(process.env.BENCH_PROXY_REQUESTS ?? 500);

function rootfs(): string {
  return ensureBusyboxRootfs(join(tmpdir(), "bento-bench-proxy-rootfs-v3"), (dir) => {
    execFileSync("cc", ["-O2", "-static", "-o", join(dir, "bin/probe"), join(repo, "test/fixtures/probe.c")]);
  });
}

/** Sends `megabytes` MiB to a sink at host:port; MB/s. */
function throughput(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const start = performance.now();
    const s = connect({ host: "127.0.0.1", port }, () => {
      let sent = 0;
      const pump = () => {
        while (sent < megabytes) {
          sent++;
          if (!s.write(chunk)) return void s.once("drain", pump);
        }
        s.end();
      };
      pump();
    });
    s.on("error", reject);
    s.resume();
    s.on("close", () => resolve(megabytes / ((performance.now() - start) / 1000)));
  });
}

/** Sequential HTTP/1.0 requests to host:port; requests per second. */
async function connectionRate(port: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => s.end("GET / HTTP/1.0\r\n\r\n"));
      s.on("error", reject);
      s.resume();
      s.on("close", () => resolve());
    });
  }
  return requests / ((performance.now() - start) / 1000);
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the comparison; returns MB/s and requests/s for direct loopback and through the proxy. */
export async function benchProxy(): Promise<Record<string, number | string>> {
  const fs = rootfs();
  const probe = join(fs, "bin/probe");
  // Direct: the same probe on the host, on loopback.
  const hostHttp = spawn(probe, ["http", "18931", "ok"], { stdio: "ignore" });
  const hostSink = spawn(probe, ["sink", "18932"], { stdio: "ignore" });
  const c = await new Container(Image.fromRootfs(fs), { command: ["sh", "-c", "probe http 80 ok & exec probe sink 9000"], ports: [80, 9000] }).start();
  try {
    for (const port of [18931, 18932, c.hostPort(80), c.hostPort(9000)]) await waitForPort(port);
    const directMBps = await throughput(18932);
    const proxyMBps = await throughput(c.hostPort(9000));
    const directRps = await connectionRate(18931);
    const proxyRps = await connectionRate(c.hostPort(80));
    return {
      "direct loopback MB/s": Math.round(directMBps),
      "proxy MB/s": Math.round(proxyMBps),
      "throughput ratio (target >= 0.5)": Number((proxyMBps / directMBps).toFixed(2)),
      "direct requests/s": Math.round(directRps),
      "proxy requests/s": Math.round(proxyRps),
      "connection rate ratio": Number((proxyRps / directRps).toFixed(2)),
    };
  } finally {
    hostHttp.kill();
    hostSink.kill();
    await (await c.stop({ timeoutMs: 1000 })).remove();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchProxy());
}
