/**
 * Finds every file a set of host programs needs to run: the program, its interpreter (PT_INTERP,
 * or a script's `#!` line), and the shared libraries the dynamic loader would load for it,
 * searched in the loader's own order. glibc (ld.so(8)): DT_RPATH of the object and of the objects
 * that loaded it (only when the object has no DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH,
 * /etc/ld.so.cache, then the default directories. musl (`ldso/dynlink.c`): LD_LIBRARY_PATH, the
 * RPATH/RUNPATH of the object and its loaders, then `/etc/ld-musl-<arch>.path` or
 * `/lib:/usr/local/lib:/usr/lib`; its libc names are the loader itself. A candidate whose ELF
 * class or machine differs from the object's is passed over, as both loaders do.
 * Libraries opened with dlopen(3) at run time are not in DT_NEEDED; name them as extra files.
 */
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { BentoError, InvalidOptionError } from "../errors.js";
import { readElf, type ElfInfo } from "./elf.js";
import { readLdSoCache, type LdSoCache } from "./ld-so-cache.js";

/** Where programs and libraries are looked for on the host. */
export interface HostSearchPaths {
  /** Directories searched for program names without a slash (the host's PATH). */
  path: string[];
  /** LD_LIBRARY_PATH entries, searched as the loader searches them. */
  libraryPath: string[];
}

/** The host files a set of programs needs, in the order they were found. */
export interface HostClosure {
  /** Each program as asked for -> its absolute host path (before symlinks are followed). */
  programs: Map<string, string>;
  /** Absolute host paths to copy: programs, interpreters, libraries, loader configuration. */
  files: string[];
}

interface LoadedObject {
  path: string;
  elf: ElfInfo;
  /** The object that needed this one (undefined for a program). */
  loadedBy: LoadedObject | undefined;
}

const MULTIARCH: Record<number, string> = { 3: "i386-linux-gnu", 40: "arm-linux-gnueabihf", 62: "x86_64-linux-gnu", 183: "aarch64-linux-gnu" };
const MUSL_RESERVED = /^lib(c|dl|m|pthread|rt|util|xnet)\.so(\..*)?$|^libc\.musl-/;
const MAX_SCRIPT_DEPTH = 8;

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function sameKind(a: ElfInfo, b: ElfInfo): boolean {
  return a.bits === b.bits && a.machine === b.machine && a.littleEndian === b.littleEndian;
}

function expandOrigin(entries: string[], object: LoadedObject): string[] {
  const origin = dirname(object.path);
  return entries.map((e) => e.replace(/\$ORIGIN|\$\{ORIGIN\}/g, origin)).filter((e) => isAbsolute(e));
}

/**
 * The closure of `programs` (names looked up in `search.path`, or absolute paths) and `extraFiles`
 * (absolute paths; ELF files among them get their libraries too). Throws naming the program or
 * library that cannot be found, and where it looked.
 *
 * @example
 * ```ts
 * resolveHostClosure(["sh", "node"], [], { path: ["/usr/bin", "/bin"], libraryPath: [] }).files;
 * // ["/usr/bin/sh", "/usr/bin/dash", "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", ...]
 * ```
 */
export function resolveHostClosure(programs: readonly string[], extraFiles: readonly string[], search: HostSearchPaths): HostClosure {
  return new ClosureWalk(search).run(programs, extraFiles);
}

class ClosureWalk {
  private readonly files: string[] = [];
  private readonly seen = new Set<string>();
  private readonly visited = new Set<string>();
  private cache: LdSoCache | undefined;
  private glibc = false;
  private musl = false;

  constructor(private readonly search: HostSearchPaths) {}

  run(programs: readonly string[], extraFiles: readonly string[]): HostClosure {
    const found = new Map<string, string>();
    for (const program of programs) {
      const path = this.findProgram(program);
      found.set(program, path);
      this.addFile(path, 0);
    }
    for (const file of extraFiles) {
      if (!isAbsolute(file)) throw new InvalidOptionError("fromHost.files", `"${file}" is not an absolute path; name host files by their absolute path`);
      if (!existsSync(file) || !statSync(file).isFile()) throw new InvalidOptionError("fromHost.files", `"${file}" is not a file on this host`);
      this.addFile(file, 0);
    }
    // The image gets the host's loader configuration, so the loader inside finds the libraries
    // where it found them here.
    if (this.glibc && existsSync("/etc/ld.so.cache")) this.include("/etc/ld.so.cache");
    if (this.musl) for (const f of this.muslPathFiles()) this.include(f);
    return { programs: found, files: this.files };
  }

  private findProgram(program: string): string {
    if (typeof program !== "string" || program === "") throw new InvalidOptionError("fromHost.programs", 'expected program names such as "sh" or absolute paths');
    if (program.includes("/")) {
      if (!isAbsolute(program)) throw new InvalidOptionError("fromHost.programs", `"${program}" is a relative path; give a name looked up in PATH or an absolute path`);
      if (!isExecutableFile(program)) throw new InvalidOptionError("fromHost.programs", `"${program}" is not an executable file on this host`);
      return program;
    }
    for (const dir of this.search.path) {
      const candidate = join(dir, program);
      if (isAbsolute(dir) && isExecutableFile(candidate)) return candidate;
    }
    throw new InvalidOptionError("fromHost.programs", `"${program}" is not an executable in PATH (${this.search.path.join(":")}); install it or give its absolute path`);
  }

  private include(path: string): void {
    if (this.seen.has(path)) return;
    this.seen.add(path);
    this.files.push(path);
  }

  /** Adds a program or extra file with what it needs to run. */
  private addFile(path: string, depth: number): void {
    this.include(path);
    const real = realpathSync(path);
    if (this.visited.has(real)) return;
    this.visited.add(real);
    const elf = readElf(real);
    if (elf === undefined) {
      const interpreter = this.scriptInterpreter(real);
      if (interpreter !== undefined) {
        if (depth >= MAX_SCRIPT_DEPTH) throw new InvalidOptionError("fromHost.programs", `"${path}": more than ${MAX_SCRIPT_DEPTH} nested #! interpreters`);
        this.addFile(interpreter, depth + 1);
      }
      return;
    }
    this.addObject({ path, elf, loadedBy: undefined });
  }

  /** The absolute interpreter of a `#!` script, if `path` is one. */
  private scriptInterpreter(path: string): string | undefined {
    const head = readFileSync(path).subarray(0, 256).toString("latin1");
    if (!head.startsWith("#!")) return undefined;
    const interpreter =
      head
        .slice(2)
        .split("\n")[0]!
        .trim()
        .split(/[ \t]+/)[0] ?? "";
    return isAbsolute(interpreter) ? interpreter : undefined;
  }

  private addObject(object: LoadedObject): void {
    if (object.elf.interpreter !== undefined) {
      if (basename(object.elf.interpreter).startsWith("ld-musl-")) this.musl = true;
      else this.glibc = true;
      this.addFile(object.elf.interpreter, 0);
    }
    const interpreter = rootOf(object).elf.interpreter;
    const musl = interpreter !== undefined && basename(interpreter).startsWith("ld-musl-");
    for (const name of object.elf.needed) {
      const path = musl ? this.findMusl(name, object, interpreter) : this.findGlibc(name, object);
      this.include(path);
      const real = realpathSync(path);
      if (this.visited.has(real)) continue;
      this.visited.add(real);
      const elf = readElf(real);
      if (elf !== undefined) this.addObject({ path, elf, loadedBy: object });
    }
  }

  private candidate(dir: string, name: string, like: ElfInfo): string | undefined {
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) return undefined;
      const elf = readElf(path);
      return elf !== undefined && sameKind(elf, like) ? path : undefined;
    } catch {
      return undefined;
    }
  }

  private firstIn(dirs: string[], name: string, like: ElfInfo): string | undefined {
    for (const dir of dirs) {
      const found = this.candidate(dir, name, like);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private findGlibc(name: string, object: LoadedObject): string {
    const like = object.elf;
    if (name.includes("/")) return this.mustExist(name, object, [name]);
    const dirs: string[] = [];
    if (like.runpath.length === 0) for (let o: LoadedObject | undefined = object; o !== undefined; o = o.loadedBy) dirs.push(...expandOrigin(o.elf.rpath, o));
    dirs.push(...this.search.libraryPath.filter((d) => isAbsolute(d)));
    dirs.push(...expandOrigin(like.runpath, object));
    const fromPaths = this.firstIn(dirs, name, like);
    if (fromPaths !== undefined) return fromPaths;
    this.cache ??= readLdSoCache("/etc/ld.so.cache");
    for (const path of this.cache.get(name) ?? []) {
      const found = this.candidate(dirname(path), basename(path), like);
      if (found !== undefined) return found;
    }
    const triplet = MULTIARCH[like.machine];
    const defaults = [...(triplet === undefined ? [] : [`/lib/${triplet}`, `/usr/lib/${triplet}`]), ...(like.bits === 64 ? ["/lib64", "/usr/lib64"] : []), "/lib", "/usr/lib"];
    return this.firstIn(defaults, name, like) ?? this.notFound(name, object, [...dirs, "/etc/ld.so.cache", ...defaults]);
  }

  private findMusl(name: string, object: LoadedObject, interpreter: string): string {
    if (MUSL_RESERVED.test(name)) return interpreter;
    if (name.includes("/")) return this.mustExist(name, object, [name]);
    const dirs = this.search.libraryPath.filter((d) => isAbsolute(d));
    for (let o: LoadedObject | undefined = object; o !== undefined; o = o.loadedBy) dirs.push(...expandOrigin([...o.elf.rpath, ...o.elf.runpath], o));
    const system = this.muslSystemPath(interpreter);
    return this.firstIn([...dirs, ...system], name, object.elf) ?? this.notFound(name, object, [...dirs, ...system]);
  }

  private muslPathFiles(): string[] {
    const files: string[] = [];
    for (const dir of ["/etc"]) {
      for (const arch of ["x86_64", "aarch64", "i386", "armhf", "arm"]) {
        const f = join(dir, `ld-musl-${arch}.path`);
        if (existsSync(f)) files.push(f);
      }
    }
    return files;
  }

  private muslSystemPath(interpreter: string): string[] {
    const arch = /^ld-musl-(.+)\.so\.1$/.exec(basename(interpreter))?.[1];
    const file = arch === undefined ? undefined : `/etc/ld-musl-${arch}.path`;
    if (file !== undefined && existsSync(file))
      return readFileSync(file, "utf8")
        .split(/[:\n]/)
        .map((s) => s.trim())
        .filter((s) => isAbsolute(s));
    return ["/lib", "/usr/local/lib", "/usr/lib"];
  }

  private mustExist(path: string, object: LoadedObject, tried: string[]): string {
    return existsSync(path) ? path : this.notFound(path, object, tried);
  }

  private notFound(name: string, object: LoadedObject, tried: string[]): never {
    throw new BentoError(
      "ERR_HOST_LIBRARY",
      `${rootOf(object).path} needs ${name} (through ${object.path}), which the dynamic loader would not find on this host (looked in ${[...new Set(tried)].join(", ")}); install it or set LD_LIBRARY_PATH`,
    );
  }
}

function rootOf(object: LoadedObject): LoadedObject {
  let o = object;
  while (o.loadedBy !== undefined) o = o.loadedBy;
  return o;
}
