#!/usr/bin/env node
/**
 * `npm test`'s set-up (its `pretest`): installs the Debian packages the test suite uses, the list
 * `.ci/run` keeps (its `packages=(...)` and `packages+=(...)` lines, so there is one list). As
 * root on Debian or Ubuntu it runs apt-get for the missing ones; otherwise it names them and goes
 * on, and every test that needs one fails with a message naming its package.
 * BENTO_TEST_SETUP=0 skips this step; `--list` prints the list, one package a line, and installs
 * nothing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const say = (text) => process.stderr.write(`test set-up: ${text}\n`);

/**
 * The package list of .ci/run: its `packages=(...)` line and every `packages+=(...)` after it
 * (clang-format for `npm run lint`, slirp4netns and passt for the egress tests' network are added there).
 */
function ciPackages() {
  const text = readFileSync(join(repo, ".ci/run"), "utf8");
  const lines = [...text.matchAll(/^packages(\+?)=\(([^)]*)\)/gm)];
  if (lines[0]?.[1] !== "") throw new Error(".ci/run has no packages=(...) line to read the test packages from");
  return lines.flatMap((line) => line[2].split(/\s+/).filter(Boolean));
}

function installed(pkg) {
  return spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" }).stdout?.includes("install ok installed") ?? false;
}

function main() {
  if (process.argv.includes("--list")) return void process.stdout.write(`${ciPackages().join("\n")}\n`);
  if (process.env.BENTO_TEST_SETUP === "0") return say("skipped (BENTO_TEST_SETUP=0)");
  if (!existsSync("/usr/bin/dpkg-query")) return say("not a Debian or Ubuntu machine: install the equivalents of .ci/run's packages yourself; tests that miss one fail naming it");
  const missing = ciPackages().filter((p) => !installed(p));
  if (missing.length === 0) return say("every Debian package the tests use is installed");
  if (process.getuid?.() !== 0) {
    say(`missing Debian packages: ${missing.join(" ")}`);
    return say(`tests that need them will fail naming them; install with: sudo apt-get install -y --no-install-recommends ${missing.join(" ")}`);
  }
  say(`installing ${missing.join(" ")} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "inherit", env });
}

main();
