/**
 * Benchmark: parse a generated 1,000-line Dockerfile into a plan (parser and instruction layer), 50
 * times, and report the median. Target: under 10 ms. Run alone with `npx tsx bench/dockerfile-parse.ts`;
 * the main bench runner calls {@link benchDockerfileParse}.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseDockerfile } from "../src/image/dockerfile.js";

const RUNS = 50;
const LINES = 1000;

/**
 * A Dockerfile of exactly `lines` lines mixing every common instruction, continuations, JSON forms,
 * heredocs, flags and several stages.
 *
 * @example
 * ```ts
 * generateDockerfile(1000).split("\n").length; // 1001 (a final newline)
 * ```
 */
export function generateDockerfile(lines: number): string {
  const out = ["# syntax=docker/dockerfile:1", "ARG BASE=alpine:3.20"];
  let stage = 0;
  const blocks: ((i: number) => string[])[] = [
    (i) => [`FROM \${BASE} AS stage${stage++}`],
    (i) => [`ENV VAR_${i}=value_${i} OTHER_${i}="quoted value ${i}"`],
    (i) => [`RUN --mount=type=cache,target=/root/.cache/${i} apk add --no-cache \\`, `    curl \\`, `    git # comment ${i}`],
    (i) => [`COPY --chown=1000:1000 --chmod=644 src/${i}/ /app/${i}/`],
    (i) => [`LABEL org.example.step${i}="step ${i}" version=${i}`],
    (i) => [`RUN ["/bin/sh", "-c", "echo ${i}"]`],
    (i) => [`WORKDIR /app/${i}`],
    (i) => [`RUN <<EOF`, `echo heredoc ${i}`, `EOF`],
    (i) => [`# a comment line ${i}`],
    (i) => [`EXPOSE ${8000 + (i % 1000)}/tcp`],
    (i) => [`HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost:${i}`],
    (i) => [`COPY --from=stage0 /out/${i} /bin/${i}`],
  ];
  for (let i = 0; out.length < lines - 1; i++) {
    const block = (blocks[i % blocks.length] as (i: number) => string[])(i);
    if (out.length + block.length > lines - 1) break;
    out.push(...block);
  }
  while (out.length < lines - 1) out.push(`USER ${out.length}`);
  out.push(`CMD ["/app/start"]`);
  return out.join("\n") + "\n";
}

/**
 * Parses a generated 1,000-line Dockerfile 50 times (after 20 warm-up runs) and reports the median.
 *
 * @example
 * ```ts
 * const { name, medianMs } = await benchDockerfileParse();
 * ```
 */
export async function benchDockerfileParse(): Promise<{ name: string; medianMs: number }> {
  const text = generateDockerfile(LINES);
  for (let i = 0; i < 20; i++) parseDockerfile(text);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    parseDockerfile(text);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const medianMs = ((times[RUNS / 2 - 1] as number) + (times[RUNS / 2] as number)) / 2;
  return { name: `dockerfile-parse (${LINES} lines, median of ${RUNS})`, medianMs };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { name, medianMs } = await benchDockerfileParse();
  console.log(`${name}: ${medianMs.toFixed(2)} ms (target < 10 ms)`);
}
