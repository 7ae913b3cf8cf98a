import { isRoot, testRoot } from "../setup-env.js";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LayeredView } from "../../../src/builder/layered-view.js";
import { nativeFs } from "../../../src/store/native-fs.js";

function layer(files: Record<string, string | { whiteout: true } | { opaqueDir: true } | { symlink: string }>): string {
  const dir = mkdtempSync(join(testRoot, "layer-"));
  for (const [rel, file] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, ".."), { recursive: true });
    if (typeof file === "string") writeFileSync(path, file);
    else if ("whiteout" in file) execFileSync("mknod", [path, "c", "0", "0"]);
    else if ("symlink" in file) symlinkSync(file.symlink, path);
    else {
      mkdirSync(path, { recursive: true });
      // Rootless stores mark opaque directories with the user.* xattr (overlay's userxattr).
      nativeFs().lsetxattr(path, isRoot ? "trusted.overlay.opaque" : "user.overlay.opaque", Buffer.from("y"));
    }
  }
  return dir;
}

describe(`LayeredView: the overlay view of layer directories`, () => {
  it("merges directories, hides whited-out names and the lower contents of opaque directories", () => {
    const bottom = layer({ "etc/a": "a0", "etc/b": "b0", "opt/x/old": "old", "usr/bin/tool": "tool", bin: { symlink: "usr/bin" }, "file-then-dir": "f" });
    const middle = layer({ "etc/b": { whiteout: true }, "etc/c": "c1", "opt/x": { opaqueDir: true }, "opt/x/new": "new" });
    const top = layer({ "etc/a": "a2" });
    const view = new LayeredView([top, middle, bottom]);
    expect(view.readdir("etc")).toEqual(["a", "c"]);
    expect(view.lookup("etc/a")?.hostPath).toBe(join(top, "etc/a"));
    expect(view.lookup("etc/b")).toBeUndefined();
    expect(view.readdir("opt/x")).toEqual(["new"]);
    expect(view.lookup("opt/x/old")).toBeUndefined();
    expect(view.resolve("/bin/tool", true)).toBe("usr/bin/tool");
    expect(view.resolve("/bin", false)).toBe("bin");
    expect(view.resolve("/usr/../../bin/../etc/a", true)).toBe("usr/etc/a"); // bin/.. is usr: bin points to usr/bin
    expect(view.resolve("/../../etc/a", true)).toBe("etc/a");
    expect(view.readlink("bin")).toBe("usr/bin");
    expect(new LayeredView([]).lookup("anything")).toBeUndefined();
  });
});
