/**
 * Makes a small root filesystem from the host's busybox-static (Debian: apt-get install
 * busybox-static): one static binary plus a symlink per applet, and /etc/passwd and /etc/group.
 * Used by the demo and by the tests when no root filesystem is given.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";

/** Files the rootfs gets in /etc. */
const etc = {
  passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  group: "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n",
};

/**
 * Creates `dir` (atomically: built under a temporary name, then renamed, so parallel callers
 * share one result) unless it exists. `extra(tmpDir)` may add files before the rename.
 */
export function ensureBusyboxRootfs(dir: string, extra: (tmpDir: string) => void = () => undefined): string {
  if (existsSync(dir)) return dir;
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
  if (!busybox) throw new Error("busybox is not installed; run: apt-get install -y busybox-static (npm test installs it as root; .ci/run lists it)");
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const sub of ["bin", "etc", "tmp", "root", "home/app", "var", "data"]) mkdirSync(`${tmp}/${sub}`, { recursive: true });
  chmodSync(`${tmp}/tmp`, 0o1777);
  copyFileSync(busybox, `${tmp}/bin/busybox`);
  chmodSync(`${tmp}/bin/busybox`, 0o755);
  const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) if (applet !== "busybox") symlinkSync("busybox", `${tmp}/bin/${applet}`);
  writeFileSync(`${tmp}/etc/passwd`, etc.passwd);
  writeFileSync(`${tmp}/etc/group`, etc.group);
  // Rootless, the user's own files are root's in a container, and other owners cannot be set.
  if (process.getuid?.() === 0) execFileSync("chown", ["1000:1000", `${tmp}/home/app`]);
  extra(tmp);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process made it first
  }
  return dir;
}
