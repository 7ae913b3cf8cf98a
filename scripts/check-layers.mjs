#!/usr/bin/env node
// Keeps the layering of ARCHITECTURE.md: every relative import under src/ (type-only ones too)
// must point to the same layer or one below it, and no files may load each other in a circle.
// Circles are counted over the imports that load a module at run time: type-only imports are
// erased by the compiler, and a typestate pair must name each other's types
// (RunningContainer.stop() returns a StoppedContainer and StoppedContainer.start() a
// RunningContainer). It reads import and export statements and dynamic import() calls with a
// regular expression rather than a full parser, which is enough for the TypeScript we write.
// Exits 1 with one line per violation, naming both files and the fix.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(root, "src");

/** The table of ARCHITECTURE.md, bottom to top: a path prefix under src/ and its layer number. */
const layers = [
  [1, ["errors.ts", "config.ts", "debug.ts", "health-state.ts", "deps.ts"]],
  [2, ["native/"]],
  [3, ["store/"]],
  [4, ["host/"]],
  [5, ["image/"]],
  [6, ["runtime/"]],
  [7, ["wait/"]],
  [8, ["container/", "network/", "volume/"]],
  [9, ["builder/"]],
  [10, ["registry/"]],
  [11, ["stack/"]],
  [12, ["modules/", "testing/", "cli/", "index.ts"]],
];

function layerOf(file) {
  const path = relative(srcDir, file).split(sep).join("/");
  for (const [layer, prefixes] of layers) {
    if (prefixes.some((prefix) => (prefix.endsWith("/") ? path.startsWith(prefix) : path === prefix))) {
      return layer;
    }
  }
  return undefined;
}

function sourceFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (name.endsWith(".ts")) files.push(path);
  }
  return files;
}

const importPattern = /(?:^|[\s;])((?:import|export)\s[^"'`;]*?)\sfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** True for `import type {...}`, `export type {...}` and `import { type A, type B }`: erased at compile time. */
function typeOnly(clause) {
  if (clause === undefined) return false;
  if (/^(?:import|export)\s+type\s/.test(clause)) return true;
  const names = /\{([^}]*)\}/.exec(clause);
  if (names === null || /^import\s+[\w$]+\s*,/.test(clause) || /\*/.test(clause)) return false;
  const specifiers = names[1]
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  return specifiers.length > 0 && specifiers.every((part) => part.startsWith("type "));
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function importsOf(file) {
  const targets = [];
  for (const match of stripComments(readFileSync(file, "utf8")).matchAll(importPattern)) {
    const specifier = match[2] ?? match[3] ?? match[4];
    if (!specifier.startsWith(".")) continue;
    targets.push({ target: resolve(dirname(file), specifier.replace(/\.js$/, ".ts")), typeOnly: typeOnly(match[1]) });
  }
  return targets;
}

const files = sourceFiles(srcDir);
const known = new Set(files);
const imports = new Map(files.map((file) => [file, importsOf(file).filter(({ target }) => known.has(target))]));
const graph = new Map(
  files.map((file) => [
    file,
    imports
      .get(file)
      .filter((i) => !i.typeOnly)
      .map((i) => i.target),
  ]),
);
const name = (file) => relative(root, file).split(sep).join("/");
const problems = [];

for (const file of files) {
  const from = layerOf(file);
  if (from === undefined) {
    problems.push(`${name(file)}: not in any layer of ARCHITECTURE.md; add its folder to the table and to scripts/check-layers.mjs`);
    continue;
  }
  for (const { target } of imports.get(file)) {
    const to = layerOf(target);
    if (to !== undefined && to > from) {
      problems.push(`${name(file)} (layer ${from}) imports ${name(target)} (layer ${to}): imports point down; move the shared part down or add a seam the upper layer installs`);
    }
  }
}

// Tarjan's strongly connected components: every component of more than one file is a circle.
let index = 0;
const indexOf = new Map();
const lowLink = new Map();
const onStack = new Set();
const stack = [];
function connect(file) {
  indexOf.set(file, index);
  lowLink.set(file, index);
  index += 1;
  stack.push(file);
  onStack.add(file);
  for (const target of graph.get(file)) {
    if (!indexOf.has(target)) {
      connect(target);
      lowLink.set(file, Math.min(lowLink.get(file), lowLink.get(target)));
    } else if (onStack.has(target)) {
      lowLink.set(file, Math.min(lowLink.get(file), indexOf.get(target)));
    }
  }
  if (lowLink.get(file) === indexOf.get(file)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) {
      problems.push(`circle between ${component.length} files: ${component.map(name).sort().join(", ")}; put the shared types in their own module or add a seam`);
    }
  }
}
for (const file of files) if (!indexOf.has(file)) connect(file);

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  console.error(`lint:layers: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`lint:layers: ${files.length} files, imports point down, no circles`);
