/**
 * Benchmarks of the build engine (run as root):
 *
 * - a fully cached 10-step build (after FROM: ARG, ENV, WORKDIR, COPY, 3 RUN, LABEL, EXPOSE, CMD),
 *   from an image in the store and from a root filesystem directory (which adds the tree walk
 *   that decides whether the directory changed). Target: under 20 ms;
 * - starting a container (start() resolving, then to exit) from a 20-layer image next to a
 *   1-layer one, rows interleaved so load hits both alike.
 *
 * Run alone with `npx tsx bench/build-cache.ts [runs]` (it uses a temporary BENTO_HOME and removes
 * it); other runners call {@link benchBuildCache}, which uses the configured store.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Container } from "../src/container/container.js";
import { buildPlan } from "../src/builder/index.js";
import { Image } from "../src/image/image.js";
import { Store } from "../src/registry/store.js";
import { benchRootfs } from "./rootfs.js";

/** One measured row: the median and the spread of its samples. */
export interface BuildBenchRow {
  name: string;
  medianMs: number;
  p90Ms: number;
  samples: number;
}

function row(name: string, times: number[]): BuildBenchRow {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  const mid = sorted.length / 2;
  const medianMs = sorted.length % 2 === 0 ? ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2 : (sorted[Math.floor(mid)] as number);
  return { name, medianMs, p90Ms: at(0.9), samples: sorted.length };
}

function tenSteps(base: Image): Image {
  return base
    .arg("VERSION", "1")
    .env("MODE", "bench")
    .workdir("/app")
    .copy(".", "./")
    .run("echo one > one.txt")
    .run("echo two > two.txt")
    .run("echo three > three.txt")
    .label("bench", "build-cache")
    .expose(8080)
    .cmd(["cat", "/app/one.txt"]);
}

/**
 * Runs the build benchmarks and returns one row per measurement.
 *
 * @example
 * ```ts
 * for (const r of await benchBuildCache({ runs: 30 })) console.log(r.name, r.medianMs);
 * ```
 */
export async function benchBuildCache(options: { runs?: number } = {}): Promise<BuildBenchRow[]> {
  const runs = options.runs ?? 30;
  const store = Store.default();
  const rootfs = benchRootfs().dir;
  const context = mkdtempSync(join(tmpdir(), "bento-bench-context-"));
  const rows: BuildBenchRow[] = [];
  try {
    for (let i = 0; i < 5; i++) writeFileSync(join(context, `file-${i}.txt`), `content ${i}\n`.repeat(100));
    await Image.fromRootfs(rootfs).build({ store, tag: "bento-bench/base:1" });
    for (const [name, base] of [
      ["cached 10-step build, FROM an image in the store", Image.from("bento-bench/base:1")],
      ["cached 10-step build, FROM a root filesystem directory", Image.fromRootfs(rootfs)],
    ] as const) {
      const plan = tenSteps(base).toPlan();
      await buildPlan(plan, { store, context, tag: "bento-bench/ten:1" });
      for (let i = 0; i < 5; i++) await buildPlan(plan, { store, context, tag: "bento-bench/ten:1" });
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        let cached = 0;
        const start = performance.now();
        await buildPlan(plan, { store, context, tag: "bento-bench/ten:1", onProgress: (e) => void (e.type === "step" && e.cached && cached++) });
        times.push(performance.now() - start);
        if (cached !== 11) throw new Error(`the benchmark build was not fully cached (${cached}/11 steps)`);
      }
      rows.push(row(name, times));
    }

    let deep = Image.fromRootfs(rootfs);
    for (let i = 1; i < 20; i++) deep = deep.run(`echo ${i} > /layer-${i}.txt`);
    const images = {
      "1 layer": await Image.fromRootfs(rootfs).cmd(["/bin/true"]).build({ store, tag: "bento-bench/layers:1" }),
      "20 layers": await deep.cmd(["/bin/true"]).build({ store, tag: "bento-bench/layers:20" }),
    };
    if (images["20 layers"].layers.length !== 20) throw new Error(`expected 20 layers, got ${images["20 layers"].layers.length}`);
    const startTimes: Record<string, number[]> = { "1 layer": [], "20 layers": [] };
    const exitTimes: Record<string, number[]> = { "1 layer": [], "20 layers": [] };
    for (let i = 0; i < runs + 3; i++) {
      for (const key of i % 2 === 0 ? (["1 layer", "20 layers"] as const) : (["20 layers", "1 layer"] as const)) {
        const start = performance.now();
        const running = await new Container(Image.from(images[key].id)).start();
        const started = performance.now();
        await running.wait();
        const exited = performance.now();
        await (await running.stop()).remove();
        if (i < 3) continue; // warm-up
        startTimes[key]?.push(started - start);
        exitTimes[key]?.push(exited - start);
      }
    }
    for (const key of ["1 layer", "20 layers"] as const) {
      rows.push(row(`container start() from a ${key} image`, startTimes[key] as number[]));
      rows.push(row(`container start to exit of /bin/true from a ${key} image`, exitTimes[key] as number[]));
    }
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const home = mkdtempSync(join(tmpdir(), "bento-bench-build-"));
  process.env.BENTO_HOME = join(home, "home");
  process.env.BENTO_RUNTIME_DIR = join(home, "run");
  try {
    const rows = await benchBuildCache({ runs: Number(process.argv[2] ?? 30) });
    for (const r of rows) {
      const target = r.name.startsWith("cached") ? ` (target < 20 ms: ${r.medianMs < 20 ? "met" : "MISSED"})` : "";
      console.log(`${r.name}: median ${r.medianMs.toFixed(2)} ms, p90 ${r.p90Ms.toFixed(2)} ms, n=${r.samples}${target}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
