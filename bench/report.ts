/**
 * The benchmark's results as data (for --json) and as a text table with ratios, bento's
 * per-call breakdown and the issue's targets. Targets are informational: a miss changes no
 * exit status.
 */
import type { ExtraResult } from "./extras.js";
import type { Summary } from "./stats.js";
import type { Subject } from "./subject.js";

/** One row's outcome. */
export interface RowResult {
  key: string;
  label: string;
  group: Subject["group"];
  timedBy: string;
  unavailable?: string;
  summary?: Summary;
  failures: number;
  firstError?: string;
  /** bento rows: each API call's summary. */
  phases?: Record<string, Summary>;
  /** This row's median over bento's (init) median. */
  ratioToBento?: number;
  /** This row's median over the C floor's median. */
  ratioToFloor?: number;
}

/** One of the issue's targets, checked against this run. */
export interface TargetResult {
  row: string;
  target: string;
  medianMs: number;
  limitMs: number;
  pass: boolean;
}

/** Everything a run produced. */
export interface BenchResult {
  startedAt: string;
  iterations: number;
  warmup: number;
  seed: number;
  host: { cpus: number; kernel: string; node: string; loadBefore: number[]; loadAfter: number[] };
  rootfs: { dir: string; trueKind: string };
  rows: RowResult[];
  /** floor.c run once with all iterations in one process (its own median and p90). */
  floorLoop?: Summary;
  floorLoopError?: string;
  targets: TargetResult[];
  /** The rootless row's median over root's and over bwrap's as the same user (not run as root: the bento and bwrap rows). */
  rootless?: { ofRoot?: number; ofBwrapAsUser?: number; ofPodman?: number; asRoot: boolean };
  notes: string[];
  leftovers: string[];
  extras: ExtraResult[];
}

/** The issue's target text, quoted in the report. */
export const targetText = "bento's median at most bwrap's and at most half of crun's (about 8 ms and 15 ms here)";

/** The issue's rootless target text, quoted in the report. */
export const rootlessTargetText = "rootless within 1.2x of root and at most bubblewrap's time";

/**
 * The rootless ratios and targets. Not run as root, the bench user is this user: bento (init)
 * is the rootless row and bwrap the bwrap-as-user row, so the rootless/root ratio is 1 by definition.
 */
function addRootless(result: BenchResult, median: (key: string) => number | undefined): void {
  const asRoot = result.rows.some((r) => r.key === "bento-rootless" && r.unavailable === undefined);
  const rootless = median(asRoot ? "bento-rootless" : "bento");
  const root = median("bento");
  const bwrapUser = median(asRoot ? "bwrap-user" : "bwrap");
  const podman = median("podman-rootless");
  result.rootless = { asRoot };
  if (rootless === undefined) return;
  if (root !== undefined && asRoot) result.rootless.ofRoot = rootless / root;
  if (bwrapUser !== undefined) result.rootless.ofBwrapAsUser = rootless / bwrapUser;
  if (podman !== undefined) result.rootless.ofPodman = rootless / podman;
  const label = asRoot ? "bento (init), rootless" : "bento (init), run by this user";
  if (root !== undefined && asRoot) result.targets.push({ row: label, target: "median <= 1.2x root's bento (init)", medianMs: rootless, limitMs: root * 1.2, pass: rootless <= root * 1.2 });
  if (bwrapUser !== undefined) result.targets.push({ row: label, target: "median <= bwrap's as the same user", medianMs: rootless, limitMs: bwrapUser, pass: rootless <= bwrapUser });
}

/** Fills in ratios and checks the targets against the Node-timed bwrap and crun rows. */
export function addRatiosAndTargets(result: BenchResult): void {
  const median = (key: string) => result.rows.find((r) => r.key === key)?.summary?.medianMs;
  const bento = median("bento");
  const floor = median("floor");
  for (const row of result.rows) {
    if (row.summary === undefined || row.group !== "true") continue;
    if (bento !== undefined) row.ratioToBento = row.summary.medianMs / bento;
    if (floor !== undefined) row.ratioToFloor = row.summary.medianMs / floor;
  }
  const bwrap = median("bwrap");
  const crun = median("crun");
  for (const key of ["bento", "bento-no-init"]) {
    const row = result.rows.find((r) => r.key === key);
    if (row?.summary === undefined) continue;
    const m = row.summary.medianMs;
    if (bwrap !== undefined) result.targets.push({ row: row.label, target: "median <= bwrap's median", medianMs: m, limitMs: bwrap, pass: m <= bwrap });
    if (crun !== undefined) result.targets.push({ row: row.label, target: "median <= half of crun's median", medianMs: m, limitMs: crun / 2, pass: m <= crun / 2 });
  }
  addRootless(result, median);
}

function rootlessLine(r: NonNullable<BenchResult["rootless"]>): string {
  const parts = [
    r.ofRoot === undefined ? undefined : `${ratio(r.ofRoot)} root's bento (init)`,
    r.ofBwrapAsUser === undefined ? undefined : `${ratio(r.ofBwrapAsUser)} bwrap's as the same user`,
    r.ofPodman === undefined ? undefined : `${ratio(r.ofPodman)} rootless podman's`,
  ].filter((p) => p !== undefined);
  const who = r.asRoot ? "bento (init), rootless" : "not run as root, so bento (init) is the rootless row (and bwrap the same-user row)";
  return `rootless: ${who}: median ${parts.length === 0 ? "has no ratios (no samples)" : parts.join(", ")}`;
}

const ms = (x: number | undefined) => (x === undefined ? "" : x.toFixed(2));
const ratio = (x: number | undefined) => (x === undefined ? "" : `${x.toFixed(2)}x`);

function table(headers: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function rowCells(r: RowResult): string[] {
  if (r.unavailable !== undefined) return [r.label, r.timedBy, "-", "", "", "", "", "", r.unavailable];
  const s = r.summary;
  const note = r.failures > 0 ? `${r.failures} failed: ${r.firstError ?? ""}` : "";
  if (s === undefined) return [r.label, r.timedBy, "0", "", "", "", "", "", note || "no samples"];
  return [r.label, r.timedBy, String(s.n), ms(s.medianMs), ms(s.p90Ms), ms(s.minMs), ratio(r.ratioToBento), ratio(r.ratioToFloor), note];
}

/** The human-readable report. */
export function formatReport(result: BenchResult): string {
  const out: string[] = [];
  const h = result.host;
  out.push(`bento bench: ${result.iterations} rounds after ${result.warmup} warm-up rounds; every row runs once per round, in a random order (BENCH_SEED=${result.seed})`);
  out.push(`host: ${h.cpus} CPUs, Linux ${h.kernel}, Node ${h.node}, load average ${h.loadBefore.map((x) => x.toFixed(2)).join(" ")} before, ${h.loadAfter.map((x) => x.toFixed(2)).join(" ")} after`);
  out.push(`rootfs: ${result.rootfs.dir} (busybox-static, /bin/true: ${result.rootfs.trueKind}); times in ms`);
  const headers = ["row", "timed by", "n", "median", "p90", "min", "x bento", "x floor", "note"];
  const right = new Set([2, 3, 4, 5, 6, 7]);
  out.push("", "1. start-to-exit of /bin/true, container removed after");
  out.push(table(headers, result.rows.filter((r) => r.group === "true").map(rowCells), right));
  if (result.rootless !== undefined) out.push(rootlessLine(result.rootless));
  if (result.floorLoop !== undefined || result.floorLoopError !== undefined) {
    const f = result.floorLoop;
    out.push(
      f === undefined
        ? `C floor, ${result.iterations} iterations in one process: ${result.floorLoopError}`
        : `C floor, ${f.n} iterations in one process (floor.c's own loop): median ${ms(f.medianMs)}, p90 ${ms(f.p90Ms)}, min ${ms(f.minMs)}`,
    );
  }
  out.push("", "2. detached: start `sleep 1000`, stop (timeoutMs 1000), remove");
  out.push(
    table(
      headers.slice(0, 6).concat("note"),
      result.rows.filter((r) => r.group === "detached").map((r) => rowCells(r).filter((_, i) => i < 6 || i === 8)),
      right,
    ),
  );
  const phased = result.rows.filter((r) => r.phases !== undefined);
  if (phased.length > 0) {
    const names = [...new Set(phased.flatMap((r) => Object.keys(r.phases!)))];
    out.push("", "where bento's time goes: median (p90) of each API call, ms");
    out.push(
      table(
        ["row", ...names],
        phased.map((r) => [
          r.label,
          ...names.map((n) => {
            const s = r.phases![n];
            return s === undefined ? "" : `${ms(s.medianMs)} (${ms(s.p90Ms)})`;
          }),
        ]),
        new Set(names.map((_, i) => i + 1)),
      ),
    );
  }
  out.push("", `targets (issue: "${targetText}"; "${rootlessTargetText}"); against the Node-timed rows; informational only`);
  if (result.targets.length === 0) out.push("  (not checked: a bento, bwrap or crun row has no samples)");
  for (const t of result.targets) {
    out.push(`  ${t.pass ? "PASS" : "MISS"}  ${t.row}: ${t.target}: ${ms(t.medianMs)} vs ${ms(t.limitMs)}`);
  }
  if (result.notes.length > 0) out.push("", "notes:", ...result.notes.map((n) => `  - ${n}`));
  out.push("", result.leftovers.length === 0 ? "leftovers: none (no cgroups, mounts, processes or temp dirs of this run remain)" : `LEFTOVERS (${result.leftovers.length}):\n${result.leftovers.map((l) => `  ${l}`).join("\n")}`);
  return out.join("\n");
}

/** The results of the other engineers' bench functions. */
export function formatExtras(extras: readonly ExtraResult[]): string {
  return extras.map((e) => `\nbench/${e.file} ${e.name}(): ${e.error !== undefined ? `failed: ${e.error}` : e.result === undefined ? "done" : JSON.stringify(e.result, null, 2)}`).join("\n");
}
