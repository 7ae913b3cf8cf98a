/**
 * removeTree: how a removed container's directory is deleted in the background (runtime/trash.ts).
 * It deletes the whole tree, never through a symlink in it (a link a container left to a host
 * path is removed, not followed), takes a missing path as done, and rejects with the errno,
 * syscall and path of what it could not delete.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { nativeFs } from "../../../src/store/native-fs.js";
import { isRoot, tempDir } from "./helpers.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function scratch(): string {
  const d = tempDir("bento-remove-tree-");
  cleanups.push(d.remove);
  return d.dir;
}

describe("removeTree", () => {
  it("deletes a container-like tree and never follows its symlinks out", async () => {
    const outside = scratch();
    writeFileSync(join(outside, "keep.txt"), "keep\n");
    const dir = join(scratch(), "container");
    mkdirSync(join(dir, "upper/etc/deep/er"), { recursive: true });
    mkdirSync(join(dir, "work/work"), { recursive: true });
    mkdirSync(join(dir, "merged"));
    writeFileSync(join(dir, "config.json"), "{}");
    writeFileSync(join(dir, "upper/etc/deep/er/file"), "x");
    symlinkSync(outside, join(dir, "upper/to-dir"));
    symlinkSync(join(outside, "keep.txt"), join(dir, "upper/etc/to-file"));
    execFileSync("mkfifo", [join(dir, "upper/fifo")]);
    // overlayfs leaves work/work with mode 000 (root's): root empties it all the same.
    if (isRoot) chmodSync(join(dir, "work/work"), 0o000);
    await nativeFs().removeTree(dir);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(join(outside, "keep.txt"), "utf8")).toBe("keep\n");
    await expect(nativeFs().removeTree(dir)).resolves.toBeUndefined();
  });

  it("rejects with the errno, syscall and path of what it cannot delete", async () => {
    const dir = join(scratch(), "locked");
    mkdirSync(join(dir, "sub"), { recursive: true });
    // Root may delete anything but a mount point; a user, nothing in a directory it may not write.
    if (isRoot) execFileSync("mount", ["-t", "tmpfs", "tmpfs", join(dir, "sub")]);
    writeFileSync(join(dir, "sub/file"), "x");
    if (!isRoot) chmodSync(join(dir, "sub"), 0o500);
    try {
      const error = await nativeFs()
        .removeTree(dir)
        .catch((e: unknown) => e);
      expect(error).toMatchObject(isRoot ? { code: "EBUSY", syscall: "rmdir", path: join(dir, "sub") } : { code: "EACCES", syscall: "unlink", path: join(dir, "sub/file") });
    } finally {
      if (isRoot) execFileSync("umount", [join(dir, "sub")]);
      else chmodSync(join(dir, "sub"), 0o700);
    }
    expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(dir);
  });
});
