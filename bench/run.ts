/**
 * `npm run bench`: container start-to-exit of /bin/true through bento, crun, bwrap,
 * unshare + chroot, a plain fork + exec and a C floor (floor.c), side by side in one run, plus
 * bento's detached start + stop + remove, and the rootless rows (bento, bwrap and podman as an
 * unprivileged user; rootless-subjects.ts). See options.ts for flags; RUNTIME-NOTES section 8 has
 * the reference costs of this machine.
 *
 * Rows run round-robin (one sample of each per round, in a fresh random order), so load from
 * other processes hits every row alike. Everything is created under one temporary directory, removed
 * at the end (also on SIGINT), and a leak check then looks for anything left.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { bentoSubjects, type BentoIds, type DetachedStops } from "./bento-subjects.js";
import { compileStatic } from "./compile.js";
import { type CrunSetup, prepareCrun } from "./crun.js";
import { runExtras } from "./extras.js";
import { leftovers } from "./leftovers.js";
import { type RootlessChild, rootlessSubjects, startRootlessChild } from "./rootless-subjects.js";
import { prepareRootlessUser, type RootlessUser, removeRootlessUser, rootlessLeftovers } from "./rootless-user.js";
import { readOptions, usage, type BenchOptions } from "./options.js";
import { addRatiosAndTargets, type BenchResult, formatExtras, formatReport, type RowResult } from "./report.js";
import { benchRootfs } from "./rootfs.js";
import { summarize } from "./stats.js";
import { runFloor, type Sample, type Subject } from "./subject.js";
import { comparisonSubjects } from "./tools.js";

const log = (message: string) => process.stderr.write(`${message}\n`);

/** A row's samples and failures while the rounds run. */
interface RowState {
  subject: Subject;
  samples: Sample[];
  failures: number;
  consecutiveFailures: number;
  firstError?: string;
}

/** After this many failures in a row a subject is dropped for the rest of the run. */
const maxConsecutiveFailures = 3;

let interrupted = false;

/** mulberry32: a small seeded PRNG, so a run's order can be repeated with the same seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Fisher-Yates shuffled copy. */
function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function runRounds(states: RowState[], options: BenchOptions): Promise<void> {
  const random = seededRandom(options.seed);
  const total = options.warmup + options.iterations;
  const started = Date.now();
  for (let round = 0; round < total && !interrupted; round++) {
    const measured = round >= options.warmup;
    const live = states.filter((s) => s.subject.run !== undefined && s.consecutiveFailures < maxConsecutiveFailures);
    // A fresh random order every round: a row's cost can depend on what ran just before it (a
    // write to a v1 cgroup.procs waits for an RCU grace period unless another migration happened
    // moments before), so no row may always follow the same neighbour, as a rotation would make it.
    const order = shuffle(live, random);
    for (const state of order) {
      try {
        const sample = await state.subject.run!();
        if (measured) state.samples.push(sample);
        state.consecutiveFailures = 0;
      } catch (error) {
        state.failures++;
        state.consecutiveFailures++;
        state.firstError ??= (error as Error).message.split("\n")[0];
      }
    }
    if ((round + 1) % 10 === 0 || round + 1 === total) {
      log(`  round ${round + 1}/${total}${measured ? "" : " (warm-up)"}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }
}

function rowResult(state: RowState): RowResult {
  const { subject } = state;
  const row: RowResult = { key: subject.key, label: subject.label, group: subject.group, timedBy: subject.timedBy, failures: state.failures };
  if (subject.unavailable !== undefined) row.unavailable = subject.unavailable;
  if (state.firstError !== undefined) row.firstError = state.firstError;
  const summary = summarize(state.samples.map((s) => s.totalMs));
  if (summary !== undefined) row.summary = summary;
  const phaseNames = [...new Set(state.samples.flatMap((s) => Object.keys(s.phasesMs ?? {})))];
  if (phaseNames.length > 0) {
    row.phases = Object.fromEntries(phaseNames.map((n) => [n, summarize(state.samples.map((s) => s.phasesMs?.[n] ?? 0))!]));
  }
  if (state.consecutiveFailures >= maxConsecutiveFailures) row.firstError = `dropped after ${maxConsecutiveFailures} failures in a row; first: ${row.firstError}`;
  return row;
}

async function main(): Promise<void> {
  let options: BenchOptions | "help";
  try {
    options = readOptions(process.argv.slice(2), process.env);
  } catch (error) {
    log(`bench: ${(error as Error).message}`);
    process.exitCode = 2;
    return;
  }
  if (options === "help") {
    console.log(usage);
    return;
  }
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) log("bench: not root: bento's rows are rootless themselves, and crun and the C floor need root (sudo npm run bench runs every row)");
  const loadBefore = loadavg();
  const tempDir = mkdtempSync(join(tmpdir(), "bento-bench-"));
  let crun: CrunSetup | undefined;
  let rootlessUser: RootlessUser | undefined;
  let rootlessChild: RootlessChild | undefined;
  let cleanedUp = false;
  const cleanUp = () => {
    if (cleanedUp) return;
    cleanedUp = true;
    crun?.cleanup();
    if (rootlessUser !== undefined) removeRootlessUser(rootlessUser);
    rmSync(tempDir, { recursive: true, force: true });
  };
  // bento's own exit hook (async-exit-hook) tears its containers down on SIGINT and exits; this
  // 'exit' listener then removes the rest. Without bento loaded, the first SIGINT ends the
  // rounds and the second exits at once.
  process.on("exit", cleanUp);
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log("bench: interrupted; cleaning up after this round (Ctrl-C again to stop now)");
  });

  const result: BenchResult = {
    startedAt: new Date().toISOString(),
    iterations: options.iterations,
    warmup: options.warmup,
    seed: options.seed,
    host: { cpus: cpus().length, kernel: release(), node: process.version, loadBefore, loadAfter: [] },
    rootfs: { dir: "", trueKind: "" },
    rows: [],
    targets: [],
    notes: [],
    leftovers: [],
    extras: [],
  };
  const created: BentoIds = { ids: [] };
  const stops: DetachedStops = { byStopSignal: 0, atTimeout: 0 };
  try {
    const rootfs = benchRootfs();
    result.rootfs = rootfs;
    const home = join(tempDir, "home"),
      runtimeDir = join(tempDir, "run"),
      scratchDir = join(tempDir, "floor");
    for (const d of [home, runtimeDir, scratchDir]) mkdirSync(d, { recursive: true });
    // bento reads its configuration once, at first use: set it before loading the SDK.
    process.env.BENTO_HOME = home;
    process.env.BENTO_RUNTIME_DIR = runtimeDir;
    const floorBinary = join(tempDir, "floor-bin");
    const floorError = compileStatic("floor.c", floorBinary);
    crun = prepareCrun(tempDir, rootfs.dir);
    const bento = await import("../src/index.js").catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    let rootlessSetup: Parameters<typeof rootlessSubjects>[0] = { unavailable: "not run as root: bento (init) and bwrap above already run as this user" };
    if (isRoot) {
      try {
        rootlessUser = prepareRootlessUser(tempDir, rootfs.dir);
        rootlessChild = startRootlessChild(rootlessUser, created);
        rootlessSetup = { child: rootlessChild, user: rootlessUser };
      } catch (error) {
        rootlessSetup = { unavailable: `cannot set up the bench user: ${(error as Error).message.split("\n")[0]}` };
      }
    }
    const subjects = [
      ...bentoSubjects(bento, rootfs.dir, created, stops),
      ...rootlessSubjects(rootlessSetup),
      ...comparisonSubjects({ rootfs: rootfs.dir, scratchDir, floor: floorError === undefined ? { binary: floorBinary } : { unavailable: floorError }, crun }),
    ];
    const states: RowState[] = subjects.map((subject) => ({ subject, samples: [], failures: 0, consecutiveFailures: 0 }));
    log(`bench: ${states.filter((s) => s.subject.run).length} rows, ${options.warmup} warm-up + ${options.iterations} rounds; temp dir ${tempDir}`);
    await runRounds(states, options);
    result.rows = states.map(rowResult);
    if (floorError === undefined && !interrupted) {
      try {
        result.floorLoop = summarize(await runFloor(floorBinary, ["container", rootfs.dir, scratchDir, "5", String(options.iterations)]));
      } catch (error) {
        result.floorLoopError = (error as Error).message;
      }
    }
    const hugetlb = crun.hugetlb.state;
    result.notes.push(
      "Node-timed rows include Node's own process creation, about 2 ms here (child_process.spawn; compare the 'fork + exec /bin/true' rows); C posix_spawn rows run the same command from floor.c's spawn loop, without Node.",
      "bento and the C floor mount an overlay (rootfs as lowerdir, upper/work on the temp dir's filesystem) per container; crun, bwrap and unshare + chroot use the rootfs directly.",
      `crun: OCI bundle modelled on \`crun spec\` (6 namespaces, cgroupfs, deny-all devices); v1 hugetlb hierarchy for crun's hybrid-cgroup check: ${hugetlb}${hugetlb === "mounted" ? " (unmounted at the end; the kernel moves hugetlb back to cgroup2 only once the unmounted hierarchy is released, which took from 30 s to minutes here)" : ""}.`,
    );
    if (stops.atTimeout > 0) result.notes.push(`detached row: ${stops.atTimeout} of ${stops.atTimeout + stops.byStopSignal} stops ended in SIGKILL at the 1000 ms timeout, so SIGTERM did not end the container.`);
    if (interrupted) result.notes.push("interrupted: fewer rounds than asked.");
    result.notes.push(
      isRoot
        ? `rootless rows: run as user ${rootlessUser?.name ?? "(none)"}${rootlessUser?.createdUser ? " (created for this run, removed after)" : ""} through one long-lived child started with runuser, timed inside it (runuser's cost is in no row); their rootfs is the user's own copy; podman runs with --network none and --rootfs, as no other row has a network out.`
        : "not run as root: the bento rows are rootless themselves, so the rootless/root ratios compare the bento (init) row with itself.",
    );
  } finally {
    await rootlessChild?.close();
    cleanUp();
  }
  result.host.loadAfter = loadavg();
  addRatiosAndTargets(result);
  result.leftovers = leftovers({
    bentoIds: created.ids,
    crunCgroupName: crun?.cgroupName ?? "",
    tempDir,
    ...(crun?.hugetlb.state === "mounted" ? { hugetlbMountPoint: "/sys/fs/cgroup/hugetlb" } : {}),
  });
  if (rootlessUser !== undefined) result.leftovers.push(...rootlessLeftovers(rootlessUser));
  if (!options.json) console.log(formatReport(result));
  if (!interrupted) {
    // In --json mode stdout carries only the JSON, so the other benchmarks' console output goes to stderr.
    const consoleLog = console.log;
    if (options.json) console.log = (...args: unknown[]) => console.error(...args);
    try {
      result.extras = await runExtras();
    } finally {
      console.log = consoleLog;
      // The other benchmarks use the bento loaded here, whose BENTO_HOME is in the temp dir:
      // their build caches bring it back after cleanUp, so it goes again.
      rmSync(tempDir, { recursive: true, force: true });
    }
  }
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else if (result.extras.length > 0) console.log(formatExtras(result.extras));
}

await main();
