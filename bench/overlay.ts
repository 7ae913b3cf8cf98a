/**
 * The price of fuse-overlayfs: start, wait, stop and remove of a /bin/true container with the
 * kernel's overlayfs and with fuse-overlayfs (BENTO_OVERLAY), alternating one child process per
 * mode and round block, since bento reads its configuration once per process.
 *
 *   npx tsx bench/overlay.ts [rounds per mode, default 40]
 */
import { execFileSync } from "node:child_process";
import { benchRootfs } from "./rootfs.js";
import { elapsedMs, summarize } from "./stats.js";

const modes = ["kernel", "fuse-overlayfs"] as const;

async function child(rounds: number): Promise<void> {
  const { Container, Image } = await import("../src/index.js");
  const rootfs = benchRootfs().dir;
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const running = await new Container(Image.fromRootfs(rootfs).cmd(["/bin/true"])).start();
    const exit = await running.wait();
    await (await running.stop()).remove();
    if (exit.exitCode !== 0) throw new Error(`/bin/true exited with ${exit.exitCode}`);
    samples.push(elapsedMs(t0));
  }
  process.stdout.write(JSON.stringify(samples));
}

async function main(): Promise<void> {
  if (process.env.BENCH_OVERLAY_CHILD) return child(Number(process.env.BENCH_OVERLAY_CHILD));
  const rounds = Number(process.argv[2] ?? "40");
  const block = 10;
  const samples: Record<string, number[]> = { kernel: [], "fuse-overlayfs": [] };
  // One warm-up round per mode (the rootfs import and page cache), not counted.
  for (const mode of modes) execFileSync(process.execPath, [...process.execArgv, import.meta.filename], { env: { ...process.env, BENTO_OVERLAY: mode, BENCH_OVERLAY_CHILD: "1" } });
  for (let done = 0; done < rounds; done += block) {
    for (const mode of modes) {
      const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename], { env: { ...process.env, BENTO_OVERLAY: mode, BENCH_OVERLAY_CHILD: String(Math.min(block, rounds - done)) }, encoding: "utf8" });
      samples[mode]!.push(...(JSON.parse(out) as number[]));
    }
  }
  for (const mode of modes) {
    const s = summarize(samples[mode]!)!;
    console.log(`${mode.padEnd(15)} n=${s.n} median ${s.medianMs.toFixed(1)} ms, p90 ${s.p90Ms.toFixed(1)} ms, min ${s.minMs.toFixed(1)} ms`);
  }
  const ratio = summarize(samples["fuse-overlayfs"]!)!.medianMs / summarize(samples.kernel!)!.medianMs;
  console.log(`fuse-overlayfs / kernel (median): ${ratio.toFixed(2)}x`);
}

await main();
