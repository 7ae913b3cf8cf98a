/**
 * The host-closure resolver against the host's own tools: for each program, every library `ldd`
 * (the loader itself, in trace mode) lists is in the closure; the ld.so.cache reader sees what
 * `ldconfig -p` prints; the ELF reader finds the interpreter the kernel would run. ldd and
 * ldconfig are part of glibc (Debian: libc-bin, an essential package), so they are on every
 * glibc host this runs on; a musl host fails here naming them.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readElf } from "../../../src/host/elf.js";
import { readLdSoCache } from "../../../src/host/ld-so-cache.js";
import { resolveHostClosure } from "../../../src/host/library-resolver.js";
import { hostSearchPaths } from "../../../src/config.js";
import { InvalidOptionError } from "../../../src/errors.js";

const search = hostSearchPaths();

/** What `ldd` says `program` loads: real paths of the libraries and the interpreter. */
function lddPaths(program: string): string[] {
  const out = execFileSync("ldd", [program], { encoding: "utf8" });
  const paths: string[] = [];
  for (const line of out.split("\n")) {
    const m = /=> (\/\S+)/.exec(line) ?? /^\s*(\/\S+) \(0x/.exec(line);
    if (m) paths.push(realpathSync(m[1] as string));
  }
  return paths;
}

describe("resolveHostClosure", () => {
  it.each(["sh", "ls", "node", "cat", "date"])("%s: includes every library ldd lists", (program) => {
    const closure = resolveHostClosure([program], [], search);
    const path = closure.programs.get(program) as string;
    expect(path).toMatch(/^\//);
    const ours = new Set(closure.files.map((f) => realpathSync(f)));
    const missing = lddPaths(path).filter((p) => !ours.has(p));
    expect(missing).toEqual([]);
  });

  it("follows a #! script to its interpreter", () => {
    const closure = resolveHostClosure(["ldd"], [], search);
    const interpreter = /^#!\s*(\S+)/.exec(execFileSync("head", ["-n1", closure.programs.get("ldd") as string], { encoding: "utf8" }))?.[1] as string;
    expect(closure.files).toContain(interpreter);
  });

  it("adds the host's ld.so.cache for glibc programs", () => {
    expect(resolveHostClosure(["sh"], [], search).files).toContain("/etc/ld.so.cache");
  });

  it("LD_LIBRARY_PATH is searched before the cache, as the loader searches it", () => {
    const sh = realpathSync(resolveHostClosure(["sh"], [], search).programs.get("sh") as string);
    const libc = lddPaths(sh).find((p) => /\/libc\.so\.6$/.test(p)) as string;
    const dir = mkdtempSync(join(tmpdir(), "bento-ld-path-"));
    try {
      copyFileSync(libc, join(dir, "libc.so.6"));
      const closure = resolveHostClosure(["sh"], [], { ...search, libraryPath: [dir] });
      expect(closure.files).toContain(join(dir, "libc.so.6"));
      expect(closure.files.filter((f) => f.endsWith("/libc.so.6"))).toEqual([join(dir, "libc.so.6")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a program it cannot find, and a relative path", () => {
    expect(() => resolveHostClosure(["no-such-program-bento"], [], search)).toThrow(InvalidOptionError);
    expect(() => resolveHostClosure(["no-such-program-bento"], [], search)).toThrow(/is not an executable in PATH/);
    expect(() => resolveHostClosure(["./sh"], [], search)).toThrow(/relative path/);
  });
});

describe("readLdSoCache", () => {
  it("knows every library ldconfig -p prints, at the same path", () => {
    const cache = readLdSoCache("/etc/ld.so.cache");
    const lines = execFileSync("ldconfig", ["-p"], { encoding: "utf8" }).split("\n").slice(1);
    let checked = 0;
    for (const line of lines) {
      const m = /^\s*(\S+) \(.*\) => (\S+)$/.exec(line);
      if (!m) continue;
      expect(cache.get(m[1] as string), m[1]).toContain(m[2]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("reads an absent file as an empty table", () => {
    expect(readLdSoCache("/nonexistent/ld.so.cache").size).toBe(0);
  });
});

describe("readElf", () => {
  it("finds the interpreter and the needed libraries of a dynamic executable", () => {
    const node = realpathSync(resolveHostClosure(["node"], [], search).programs.get("node") as string);
    const elf = readElf(node);
    expect(elf?.interpreter).toMatch(/^\/.*ld-/);
    expect(elf?.needed.length).toBeGreaterThan(0);
    expect(elf?.bits).toBe(64);
  });

  it("is undefined for a file that is not ELF", () => {
    expect(readElf("/etc/passwd")).toBeUndefined();
  });
});
