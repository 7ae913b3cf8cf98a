/**
 * The benchmark's command line and environment: `--json`, `--help`, BENCH_ITERATIONS,
 * BENCH_WARMUP and BENCH_SEED. The only place bench/ reads them.
 */

/** How to run the benchmark. */
export interface BenchOptions {
  iterations: number;
  warmup: number;
  /** Seed of the per-round row order. */
  seed: number;
  json: boolean;
}

export const usage = `usage: npm run bench [-- --json]

Times container start-to-exit of /bin/true through bento, crun, bwrap, unshare + chroot,
a plain fork + exec and a C floor, one sample of each per round in a random order, and prints
medians, p90 and ratios. Rootless rows run bento, bwrap and podman (when installed) as the
unprivileged user bento-bench (created with a subuid range for the run, removed after) in the
same rounds, and report rootless/root and rootless/bwrap-as-user ratios.
  --json               print machine-readable results on stdout (progress goes to stderr)
  BENCH_ITERATIONS=N   measured rounds (default 100)
  BENCH_WARMUP=N       unmeasured rounds first (default 5)
  BENCH_SEED=N         seed of the random row order of each round (default: random, printed)
Run it as root for every row; as a normal user crun and the C floor fail, bento's rows are the
rootless ones, and the rootless rows say so.`;

function count(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}: "${text}" must be a whole number of at least ${min}`);
  return value;
}

/** Parses argv (after the script) and the environment; throws on a bad value, with the fix. */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | "help" {
  let json = false;
  for (const arg of argv) {
    if (arg === "--json") json = true;
    else if (arg === "--help" || arg === "-h") return "help";
    else throw new Error(`unknown argument "${arg}"\n${usage}`);
  }
  return {
    iterations: count("BENCH_ITERATIONS", env.BENCH_ITERATIONS, 100, 1),
    warmup: count("BENCH_WARMUP", env.BENCH_WARMUP, 5, 0),
    seed: count("BENCH_SEED", env.BENCH_SEED, Math.floor(Math.random() * 2 ** 31), 0),
    json,
  };
}
