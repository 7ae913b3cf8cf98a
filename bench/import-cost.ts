/**
 * What `import "bento"` costs on top of bare Node: medians of wall time and of the process's CPU
 * time (user + system, less sensitive to other load) over fresh `node` processes, side by side
 * with a bare `node` doing nothing, rows interleaved. It imports the package as users do (by
 * name, through package.json `exports`, so the built dist/), building dist first when it is missing or older than src/.
 * Where valgrind is installed it also counts both subjects' instructions once (callgrind): a
 * number that repeats exactly whatever else the machine does, where times under load do not.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const rounds = 15;

interface Row {
  subject: string;
  wallMs: number;
  cpuMs: number;
  /** Instructions executed, counted by callgrind (absent without valgrind). */
  instructions?: number;
}

/** The instructions `node -e code` executes, or undefined when valgrind is not installed. */
function instructionsOf(code: string): number | undefined {
  const run = spawnSync("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", "--smc-check=all-non-file", process.execPath, "--input-type=module", "-e", code || "0"], { cwd: repo, encoding: "utf8" });
  const refs = /refs:\s+([\d,]+)/.exec(run.stderr ?? "")?.[1];
  return refs === undefined ? undefined : Number(refs.replaceAll(",", ""));
}

/** True when dist/ is missing or older than a source file. */
function distIsStale(): boolean {
  const built = join(repo, "dist/index.js");
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newer = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > builtAt));
  return newer(join(repo, "src"));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Medians for bare node and `import "bento"`, and bento's cost on top of bare node. */
export async function benchImportCost(): Promise<{ rows: Row[]; costWallMs: number; costCpuMs: number; costInstructions?: number }> {
  if (distIsStale()) execFileSync(process.execPath, [join(repo, "scripts/build-dist.mjs")], { stdio: "inherit" });
  const subjects = { "bare node": "", 'import "bento"': 'await import("bento");' };
  const samples = new Map(Object.keys(subjects).map((k) => [k, { wall: [] as number[], cpu: [] as number[] }]));
  for (let round = 0; round < rounds; round++) {
    for (const [subject, code] of Object.entries(subjects)) {
      const start = performance.now();
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", `${code} const u = process.cpuUsage(); console.log((u.user + u.system) / 1000);`], { cwd: repo, encoding: "utf8" });
      const s = samples.get(subject)!;
      s.wall.push(performance.now() - start);
      s.cpu.push(Number(out.trim()));
    }
  }
  const rows: Row[] = [...samples].map(([subject, s]) => ({ subject, wallMs: Math.round(median(s.wall)), cpuMs: Math.round(median(s.cpu)) }));
  for (const row of rows) {
    const count = instructionsOf(subjects[row.subject as keyof typeof subjects]);
    if (count !== undefined) row.instructions = count;
  }
  const [bare, bento] = rows as [Row, Row];
  const costInstructions = bare.instructions !== undefined && bento.instructions !== undefined ? { costInstructions: bento.instructions - bare.instructions } : {};
  return { rows, costWallMs: bento.wallMs - bare.wallMs, costCpuMs: bento.cpuMs - bare.cpuMs, ...costInstructions };
}
