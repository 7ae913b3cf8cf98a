/**
 * The root filesystem every tool in the benchmark runs: busybox-static with its applets as
 * symlinks, and a static /bin/true compiled from true-static.c. It is built once into a cache
 * directory outside the repository and reused by later runs.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileStatic } from "./compile.js";

/** Bump when the layout changes, so an old cache is not reused. */
const layoutVersion = "v1";

/** The benchmark rootfs and what its /bin/true is. */
export interface BenchRootfs {
  dir: string;
  /** "static C" or "busybox applet" (when no static C toolchain is available). */
  trueKind: string;
}

/** Returns the cached rootfs, building it first when missing. Throws when busybox is missing. */
export function benchRootfs(): BenchRootfs {
  const dir = join(tmpdir(), `bento-bench-rootfs-${layoutVersion}`);
  const marker = join(dir, ".bench-rootfs");
  if (existsSync(marker)) return { dir, trueKind: readFileSync(marker, "utf8").trim() };
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
  if (busybox === undefined) throw new Error("busybox is not installed: apt-get install -y busybox-static");
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const sub of ["bin", "etc", "proc", "dev", "sys", "tmp", "root", "run"]) mkdirSync(join(tmp, sub), { recursive: true });
    chmodSync(join(tmp, "tmp"), 0o1777);
    copyFileSync(busybox, join(tmp, "bin/busybox"));
    chmodSync(join(tmp, "bin/busybox"), 0o755);
    for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n")) {
      if (applet !== "" && applet !== "busybox") symlinkSync("busybox", join(tmp, "bin", applet));
    }
    let trueKind = "busybox applet";
    const trueBinary = join(tmp, "bin/true.static");
    if (compileStatic("true-static.c", trueBinary) === undefined) {
      unlinkSync(join(tmp, "bin/true"));
      renameSync(trueBinary, join(tmp, "bin/true"));
      trueKind = "static C";
    }
    writeFileSync(join(tmp, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    writeFileSync(join(tmp, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    writeFileSync(join(tmp, ".bench-rootfs"), `${trueKind}\n`);
    renameSync(tmp, dir);
    return { dir, trueKind };
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(marker)) return { dir, trueKind: readFileSync(marker, "utf8").trim() }; // a parallel run won
    throw error;
  }
}
