/**
 * The build context: the directory COPY and ADD read from. Every source is confined to it: `..`
 * that climbs out, absolute paths and symlinks whose target leaves it are refused, and
 * `.dockerignore` decides what exists (an ignored file cannot be copied, even by name). File
 * content digests feed the cache key; they are remembered per process by (inode, size, times),
 * so an unchanged tree is not read twice.
 */
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Stats } from "node:fs";
import path from "node:path";
import { createIgnoreMatcher, type IgnoreMatcher } from "../image/dockerignore.js";

/** A source the context refuses, with the reason; the builder adds the step's position. */
export class ContextRefusal extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
  }
}

/** One file-system entry to copy: where it is in the context and its stat (symlinks not followed). */
export interface ContextEntry {
  /** Path relative to the context root, `/`-separated; "" is the root. */
  rel: string;
  stat: Stats;
}

/** A matched COPY source: the path as matched and the real entry after following symlinks. */
export interface ContextSource {
  /** The path as written or matched (before following symlinks); its last name names the copy. */
  matched: string;
  /** The real entry. */
  entry: ContextEntry;
}

const MAX_SYMLINK_HOPS = 40;
const digestMemo = new Map<string, string>();

/**
 * Whether a COPY source uses wildcards (`*`, `?`, `[`), as Go's filepath.Match reads them.
 *
 * @example
 * ```ts
 * hasWildcards("src/*.ts"); // true
 * ```
 */
export function hasWildcards(source: string): boolean {
  return /(^|[^\\])[*?[]/.test(source);
}

/**
 * One name of a wildcard source as a regular expression, with Go's filepath.Match rules.
 *
 * @example
 * ```ts
 * segmentRegExp("*.ts").test("a.ts"); // true
 * ```
 */
export function segmentRegExp(pattern: string): RegExp {
  let out = "^";
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else if (ch === "\\" && i + 1 < chars.length) out += escapeRegExp(chars[++i] as string);
    else if (ch === "[") {
      let j = i + 1;
      let body = "";
      if (chars[j] === "^" || chars[j] === "!") {
        body += "^";
        j++;
      }
      let closed = false;
      for (; j < chars.length; j++) {
        const c = chars[j] as string;
        if (c === "\\" && j + 1 < chars.length) body += escapeClassChar(chars[++j] as string);
        else if (c === "]") {
          closed = true;
          break;
        } else body += c === "-" ? "-" : escapeClassChar(c);
      }
      if (!closed) throw new Error(`syntax error in pattern ${JSON.stringify(pattern)}: unclosed [`);
      out += `[${body}]`;
      i = j;
    } else out += escapeRegExp(ch);
  }
  return new RegExp(`${out}$`, "su");
}

function escapeClassChar(ch: string): string {
  return /[\\\][^]/.test(ch) ? `\\${ch}` : ch;
}

function escapeRegExp(ch: string): string {
  return /[.+()|{}$^\][\\*?/]/.test(ch) ? `\\${ch}` : ch;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * A build context directory with its `.dockerignore`.
 *
 * @example
 * ```ts
 * const context = BuildContext.open("./app");
 * const [source] = context.resolveSource("package.json");
 * ```
 */
export class BuildContext {
  readonly root: string;
  readonly ignore: IgnoreMatcher;

  private constructor(root: string, ignore: IgnoreMatcher) {
    this.root = root;
    this.ignore = ignore;
  }

  /** Opens `dir` (which must be a directory) and reads its `.dockerignore`, if any. */
  static open(dir: string): BuildContext {
    const root = path.resolve(dir);
    const stat = lstatOrUndefined(root);
    if (stat === undefined || !stat.isDirectory()) throw new ContextRefusal(root, "the build context is not a directory; pass build({ context }) an existing directory");
    let text = "";
    try {
      text = readFileSync(path.join(root, ".dockerignore"), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    return new BuildContext(root, createIgnoreMatcher(text, path.join(root, ".dockerignore")));
  }

  /** The host path of a context-relative path. */
  hostPath(rel: string): string {
    return rel === "" ? this.root : path.join(this.root, ...rel.split("/"));
  }

  /**
   * The entries a COPY/ADD source names: one, or several for a wildcard. Refuses (throws
   * {@link ContextRefusal}) sources that leave the context, are ignored, or do not exist.
   */
  resolveSource(source: string): ContextSource[] {
    if (source.startsWith("/")) {
      throw new ContextRefusal(source, `an absolute path: COPY and ADD sources are relative to the build context (write ${JSON.stringify(source.replace(/^\/+/, "") || ".")})`);
    }
    const cleaned = path.posix.normalize(source);
    if (cleaned === ".." || cleaned.startsWith("../")) throw new ContextRefusal(source, "it leaves the build context (`..`); copy only files inside the context directory");
    const rel = cleaned === "." ? "" : cleaned.replace(/\/+$/, "");
    // Without wildcards, `\*`, `\?` and `\[` are the characters themselves (Go's filepath.Match escapes).
    const matched = hasWildcards(rel) ? this.#expandWildcards(source, rel) : [rel.replace(/\\([*?[\]\\])/g, "$1")];
    if (matched.length === 0) throw new ContextRefusal(source, "no file in the build context matches this pattern");
    return matched.map((m) => {
      if (m !== "" && this.ignore(m, false)) throw new ContextRefusal(source, `"${m}" is excluded by .dockerignore`);
      const real = this.#resolve(source, m);
      if (real !== "" && real !== m && this.ignore(real, false)) throw new ContextRefusal(source, `"${m}" points to "${real}", which is excluded by .dockerignore`);
      const stat = lstatOrUndefined(this.hostPath(real));
      if (stat === undefined) throw new ContextRefusal(source, `not found in the build context "${this.root}"`);
      return { matched: m, entry: { rel: real, stat } };
    });
  }

  /**
   * Every entry under the directory `rel` (not `rel` itself), parents before children, sorted by
   * name, without what `.dockerignore` excludes. Symlinks are listed, not followed.
   */
  walk(rel: string): ContextEntry[] {
    const out: ContextEntry[] = [];
    const visit = (dirRel: string): boolean => {
      let names: string[];
      try {
        names = readdirSync(this.hostPath(dirRel));
      } catch (e) {
        throw new ContextRefusal(dirRel, `cannot read the directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      let any = false;
      for (const name of names.sort()) {
        const childRel = dirRel === "" ? name : `${dirRel}/${name}`;
        const stat = lstatSync(this.hostPath(childRel));
        const ignored = this.ignore(childRel, stat.isDirectory());
        if (stat.isDirectory()) {
          if (ignored && this.ignore.canSkipDir(childRel)) continue;
          const index = out.length;
          out.push({ rel: childRel, stat });
          const kept = visit(childRel);
          // An ignored directory appears only as the parent of something an exception re-includes.
          if (ignored && !kept) out.splice(index, 1);
          else any = true;
        } else if (!ignored && (stat.isFile() || stat.isSymbolicLink())) {
          out.push({ rel: childRel, stat });
          any = true;
        }
      }
      return any;
    };
    visit(rel);
    return out;
  }

  /** The sha256 (hex) of a regular file's content, remembered while its inode, size and times stay. */
  fileDigest(entry: ContextEntry): string {
    return fileDigest(this.hostPath(entry.rel), entry.stat);
  }

  /** The target of the symlink `rel`. */
  readlink(rel: string): string {
    return readlinkSync(this.hostPath(rel));
  }

  // Follows symlinks in every name of `rel`, refusing any step outside the context.
  #resolve(source: string, rel: string): string {
    const pending = rel === "" ? [] : rel.split("/");
    const out: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift() as string;
      if (name === "" || name === ".") continue;
      if (name === "..") {
        if (out.length === 0) throw new ContextRefusal(source, "a symlink in it climbs out of the build context");
        out.pop();
        continue;
      }
      const candidate = [...out, name].join("/");
      const stat = lstatOrUndefined(this.hostPath(candidate));
      if (stat?.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new ContextRefusal(source, "too many levels of symbolic links");
        const target = readlinkSync(this.hostPath(candidate));
        if (target.startsWith("/")) {
          throw new ContextRefusal(source, `the symlink "${candidate}" points to the absolute path "${target}", outside the build context`);
        }
        pending.unshift(...target.split("/"));
        continue;
      }
      out.push(name);
    }
    return out.join("/");
  }

  #expandWildcards(source: string, rel: string): string[] {
    let current = [""];
    const names = rel.split("/");
    for (const [i, name] of names.entries()) {
      const last = i === names.length - 1;
      const next: string[] = [];
      for (const dir of current) {
        if (!hasWildcards(name)) {
          const literal = name.replace(/\\(.)/g, "$1");
          const candidate = dir === "" ? literal : `${dir}/${literal}`;
          if (lstatOrUndefined(this.hostPath(this.#resolve(source, candidate))) !== undefined) next.push(candidate);
          continue;
        }
        let regexp: RegExp;
        try {
          regexp = segmentRegExp(name);
        } catch (e) {
          throw new ContextRefusal(source, (e as Error).message);
        }
        const real = this.#resolve(source, dir);
        let entries: string[];
        try {
          entries = readdirSync(this.hostPath(real));
        } catch {
          continue;
        }
        for (const entry of entries.sort()) {
          const candidate = dir === "" ? entry : `${dir}/${entry}`;
          if (!regexp.test(entry) || this.ignore(candidate, false)) continue;
          if (!last) {
            // Only directories inside the context lead further; a symlink leaving it leads nowhere.
            let real: string;
            try {
              real = this.#resolve(source, candidate);
            } catch (e) {
              if (e instanceof ContextRefusal) continue;
              throw e;
            }
            const stat = lstatOrUndefined(this.hostPath(real));
            if (stat === undefined || !stat.isDirectory()) continue;
          }
          next.push(candidate);
        }
      }
      current = next;
    }
    return current;
  }
}

/**
 * The sha256 (hex) of a file's content, remembered per process while its device, inode, size,
 * mtime and ctime stay the same (a change through the file's name changes the ctime).
 *
 * @example
 * ```ts
 * fileDigest("/srv/app/package.json", statSync("/srv/app/package.json"));
 * ```
 */
export function fileDigest(hostPath: string, stat: Stats): string {
  const memoKey = `${hostPath}\0${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  const known = digestMemo.get(memoKey);
  if (known !== undefined) return known;
  const hash = createHash("sha256");
  const fd = openSync(hostPath, "r");
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const digest = hash.digest("hex");
  if (digestMemo.size > 100_000) digestMemo.clear();
  digestMemo.set(memoKey, digest);
  return digest;
}
