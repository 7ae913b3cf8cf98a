/**
 * A row of the benchmark: something that starts a container running /bin/true (or a detached
 * one) and reports how long that took. The runner calls every available subject once per round.
 */
import { execFile, spawn } from "node:child_process";
import { elapsedMs } from "./stats.js";

/** One measurement: the total, and for bento the time of each API call. */
export interface Sample {
  totalMs: number;
  phasesMs?: Record<string, number>;
}

/** A row of the benchmark. */
export interface Subject {
  /** Stable key for --json. */
  key: string;
  /** The label in the table. */
  label: string;
  /** What the row measures: a start-to-exit of /bin/true, or a detached start + stop + remove. */
  group: "true" | "detached";
  /** Who holds the stopwatch, e.g. "Node spawn" or "C posix_spawn". */
  timedBy: string;
  /** When set, the subject cannot run here; the reason is printed in its row. */
  unavailable?: string;
  /** Takes one measurement; rejects with the reason when the tool failed. */
  run?: () => Promise<Sample>;
}

/** A subject that cannot run here. */
export function unavailableSubject(key: string, label: string, group: Subject["group"], timedBy: string, reason: string): Subject {
  return { key, label, group, timedBy, unavailable: reason };
}

/**
 * Spawns `file args` from Node and times it from just before spawn() to the 'exit' event: the
 * cost a Node program pays to run the tool, including libuv's fork + exec.
 */
export function spawnTimed(file: string, args: readonly string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let totalMs = 0;
    let stderr = "";
    const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", () => (totalMs = elapsedMs(start)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ totalMs });
      else reject(new Error(`${file} ended with ${code === null ? signal : `exit code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ""}`));
    });
  });
}

/** Runs floor.c's binary once and returns its "sample" lines, in milliseconds. */
export function runFloor(binary: string, args: readonly string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { encoding: "utf8", maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(stderr.trim() || error.message));
        return;
      }
      const samples = stdout
        .split("\n")
        .filter((l) => l.startsWith("sample "))
        .map((l) => Number(l.slice(7)) / 1000);
      if (samples.length === 0 || samples.some((s) => !Number.isFinite(s))) reject(new Error(`floor printed no samples: ${stdout.trim()}`));
      else resolve(samples);
    });
  });
}
