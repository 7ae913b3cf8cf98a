#!/usr/bin/env node
// Keeps the layering of ARCHITECTURE.md: every relative import under src/ must point to the same
// layer or one below it, and no files may import each other in a circle (type-only imports count
// too: a circle of types still ties the files' jobs together). It reads import and export
// statements and dynamic import() calls with a regular expression rather than a full parser,
// which is enough because the sources are TypeScript we format ourselves. Exits 1 with one line
// per violation, naming both files and the fix.
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
  [4, ["image/"]],
  [5, ["runtime/"]],
  [6, ["container/", "network/", "volume/"]],
  [7, ["builder/", "host/"]],
  [8, ["registry/"]],
  [9, ["wait/"]],
  [10, ["stack/"]],
  [11, ["modules/", "testing/", "cli/", "index.ts"]],
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

const importPattern =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?\sfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function importsOf(file) {
  const targets = [];
  for (const match of stripComments(readFileSync(file, "utf8")).matchAll(importPattern)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier.startsWith(".")) continue;
    targets.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
  }
  return targets;
}

const files = sourceFiles(srcDir);
const known = new Set(files);
const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => known.has(target))]));
const name = (file) => relative(root, file).split(sep).join("/");
const problems = [];

for (const file of files) {
  const from = layerOf(file);
  if (from === undefined) {
    problems.push(`${name(file)}: not in any layer of ARCHITECTURE.md; add its folder to the table and to scripts/check-layers.mjs`);
    continue;
  }
  for (const target of graph.get(file)) {
    const to = layerOf(target);
    if (to !== undefined && to > from) {
      problems.push(
        `${name(file)} (layer ${from}) imports ${name(target)} (layer ${to}): imports point down; move the shared part down or add a seam the upper layer installs`,
      );
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
      problems.push(
        `circle between ${component.length} files: ${component.map(name).sort().join(", ")}; put the shared types in their own module or add a seam`,
      );
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
