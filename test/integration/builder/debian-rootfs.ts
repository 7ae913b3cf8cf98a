/**
 * A minimal Debian bookworm root filesystem made with debootstrap (`--variant=minbase`, about 80 s
 * and 200 MB), cached outside the repository between runs at /var/cache/bento-test (override with
 * BENTO_TEST_CACHE). Made under a temporary name and renamed into place, so parallel or
 * interrupted runs never see half a tree. Without debootstrap it fails with the fix, rather than
 * skipping: the realistic build test must run (Debian: apt-get install -y debootstrap).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const MIRROR = "http://deb.debian.org/debian";

function findDebootstrap(): string | undefined {
  return ["/usr/sbin/debootstrap", "/usr/bin/debootstrap", "/sbin/debootstrap"].find((p) => existsSync(p));
}

/**
 * The path of the cached Debian rootfs, made on first use. Async: debootstrap runs for minutes,
 * and a vitest worker blocked that long misses its RPC deadline ("Timeout calling onTaskUpdate").
 */
export async function debianRootfs(): Promise<string> {
  const dir = join(process.env.BENTO_TEST_CACHE ?? "/var/cache/bento-test", "debian-bookworm");
  if (existsSync(join(dir, "etc", "debian_version"))) return dir;
  const debootstrap = findDebootstrap();
  if (debootstrap === undefined) {
    throw new Error(`the Debian build test needs debootstrap to make its base image at ${dir}, and it is not installed: run "apt-get install -y debootstrap" (CI: add debootstrap to .ci/run's apt packages)`);
  }
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await promisify(execFile)(debootstrap, ["--variant=minbase", "bookworm", tmp, MIRROR], { timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    const stderr = (error as { stderr?: string }).stderr?.trim().split("\n").slice(-5).join("\n") ?? "";
    throw new Error(`debootstrap --variant=minbase bookworm ${tmp} ${MIRROR} failed (is ${MIRROR} reachable?):\n${stderr}`, { cause: error });
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process made it first
  }
  return dir;
}
