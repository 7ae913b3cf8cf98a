/**
 * Compiles the benchmark's small C programs (floor.c, true-static.c) with the host's C compiler.
 * Binaries go to a directory the caller owns; none is committed.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The path of a file in bench/. */
export function benchFile(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/**
 * Compiles bench/<source> to `output` as a static binary. Returns undefined on success, else
 * why it failed (no compiler, no static libc, a compile error).
 */
export function compileStatic(source: string, output: string): string | undefined {
  try {
    execFileSync("cc", ["-O2", "-static", "-Wall", "-o", output, benchFile(source)], { stdio: ["ignore", "ignore", "pipe"] });
    return undefined;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") return "no C compiler (apt-get install -y gcc libc6-dev)";
    const text = e.stderr?.toString("utf8").trim() ?? "";
    return `cc -static ${source} failed: ${text.split("\n").slice(-3).join(" | ") || e.message}`;
  }
}
