#!/usr/bin/env node
/**
 * Builds dist/: the package's entry points (package.json `exports` and `bin`) bundled with
 * esbuild, sharing code through chunks so every entry point sees the same classes, plus the type
 * declarations from tsc. `import "bento"` loads two files (dist/index.js and one chunk) instead
 * of ~150 modules: Node's ES module loader spends much of an import resolving, reading and linking
 * each file. What a call needs later (the build engine, Image.fromHost, pulls and pushes, archive
 * import and export) stays in chunks loaded by dynamic import. Third-party packages stay external.
 *   node scripts/build-dist.mjs [--outdir DIR] [--no-types]
 * --outdir builds into DIR instead (inside the checkout, where the bundle finds the addon: the
 * test run's own copy, test/global-setup.ts); --no-types leaves out the declarations.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: flags } = parseArgs({ options: { outdir: { type: "string" }, "no-types": { type: "boolean" } } });
const outdir = flags.outdir === undefined ? join(root, "dist") : resolve(flags.outdir);
const entryPoints = Object.fromEntries(["index", "testing/vitest", "testing/global-fixtures", "modules/postgres", "modules/redis", "modules/mariadb", "cli/main"].map((p) => [p, join(root, "src", `${p}.ts`)]));
// The demo ships too (dist/demo.js), so an installed package can show it works: node node_modules/bento/dist/demo.js
entryPoints.demo = join(root, "examples/demo.ts");

const options = {
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  // No keepNames: it adds a __name() call per function and class (885 of them) that runs at
  // import, 14 M of the ~120 M instructions `import "bento"` cost (callgrind). Without it a
  // function esbuild renames for a collision between two modules (join2) reports that name; the
  // check below keeps classes, whose names errors and inspect() show, from being renamed.
  logLevel: "warning",
};

// esbuild puts the modules that the same set of entry points reach (the static ones and every
// dynamic import) into one chunk, so entry points that reach different parts of the library
// split it into many chunks, and `import "bento"` loaded ten files. Each file costs Node's
// loader about 3.5 M instructions (resolving, reading, compiling and linking it: measured with
// callgrind) on top of its code. So every other entry point and every module loaded by dynamic
// import also imports src/index.ts: then all of them reach the whole library `import "bento"`
// loads, which becomes one chunk. For a module index.ts also imports statically (registry/store.ts,
// which stack/up.ts imports dynamically as well) that added import closes a cycle; it imports
// nothing by name, so no binding is read before it is set. A first pass without output finds
// the dynamically imported modules.
const { metafile } = await build({ ...options, write: false, metafile: true });
const indexInput = "src/index.ts";
const dynamicTargets = Object.values(metafile.inputs).flatMap((input) => input.imports.filter((i) => i.kind === "dynamic-import" && !i.external).map((i) => i.path));
const entryInputs = Object.values(entryPoints).map((file) => relative(root, file));
const alsoImportIndex = new Set([...entryInputs, ...dynamicTargets].filter((input) => input !== indexInput));
const indexFirst = {
  name: "entries-import-index",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!alsoImportIndex.has(relative(root, args.path))) return undefined;
      const source = readFileSync(args.path, "utf8");
      return { contents: `${source}\nimport ${JSON.stringify(join(root, indexInput))};\n`, loader: "ts", resolveDir: dirname(args.path) };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({ ...options, plugins: [indexFirst] });
// Three checks of the output, each naming the line to fix in the source:
// - esbuild escapes what lies outside ASCII in strings, not in regular expression literals. One
//   such character makes V8 hold and scan its whole chunk as two-byte text (measured: 1.4% more
//   instructions for `import "bento"`), so the source writes it as an escape.
// - esbuild bundles only an import() of a string literal; one of a variable stays a run-time
//   import of a path that exists under src/ but not in the bundle (the CLI's compose and store
//   images once failed that way from dist/ while passing under tsx).
// - a class esbuild renamed (see keepNames above).
const faults = [
  [/[^\t\n\r\x20-\x7e]/, "a character outside ASCII in the bundle; write it as a \\u escape in the source"],
  [/(?<![.\w$])(?<!async )import\((?!\s*["'])/, "an import() of something other than a string literal, which esbuild leaves unbundled; import the module by its path"],
  [/\bclass [A-Za-z_$]+\d+\b|\b[A-Za-z_$]+\d+ = class\b/, "a class esbuild renamed (a digit added) because two modules declare one of that name; its name is what an error's .name and inspect() show, so rename one of the two in the source"],
];
// esbuild writes a top-level class whose body names itself as `var Image = class _Image {` (the
// inner name keeps the body's references right), so without keepNames `Image.name` would be
// "_Image". One statement at the end of the file (before its source map comment, so no line
// moves) gives each such class its own name back: a handful of calls instead of keepNames' 885.
function restoreClassNames(text) {
  const renamed = [...text.matchAll(/^var ([A-Za-z_$][\w$]*) = class (?!extends\b)([A-Za-z_$][\w$]*)\b/gm)].filter(([, outer, inner]) => outer !== inner).map(([, outer]) => outer);
  if (renamed.length === 0) return text;
  const restore = `for (const [c, name] of [${renamed.map((n) => `[${n}, "${n}"]`).join(", ")}]) Object.defineProperty(c, "name", { value: name, configurable: true });\n`;
  const mapComment = text.lastIndexOf("//# sourceMappingURL=");
  return mapComment < 0 ? text + restore : text.slice(0, mapComment) + restore + text.slice(mapComment);
}
for (const entry of readdirSync(outdir, { recursive: true })) {
  if (!entry.endsWith(".js")) continue;
  const file = join(outdir, entry);
  const text = restoreClassNames(readFileSync(file, "utf8"));
  writeFileSync(file, text);
  const lines = text.split("\n");
  for (const [pattern, fault] of faults) {
    const at = lines.findIndex((line) => pattern.test(line));
    if (at >= 0) throw new Error(`${relative(root, file)}:${at + 1}: ${fault}:\n${lines[at].trim().slice(0, 200)}`);
  }
}
if (!flags["no-types"]) execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--emitDeclarationOnly", "--outDir", outdir], { stdio: "inherit" });
