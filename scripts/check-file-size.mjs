#!/usr/bin/env node
// One file, one job (ARCHITECTURE.md): a source file under src/ or addon/ longer than 400 lines
// is split by job, or says why not in a line starting "Over 400 lines:" near its top, where a
// reader opening the file sees it. Exits 1 naming each file, its length and the fix.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const limit = 400;
/** How far down the reason may be: below the file's opening comment, not buried in its body. */
const reasonWithin = 20;
const sourceExtensions = [".ts", ".cc", ".hh"];

function sourceFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && sourceExtensions.some((ext) => entry.name.endsWith(ext)))
    .map((entry) => join(entry.parentPath, entry.name));
}

const problems = [];
const files = [...sourceFiles(join(root, "src")), ...sourceFiles(join(root, "addon"))];
for (const file of files) {
  const lines = readFileSync(file, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length <= limit) continue;
  const explained = lines.slice(0, reasonWithin).some((line) => /^\s*(?:\/\/|\/?\*+)\s*Over 400 lines:/.test(line));
  if (!explained) {
    problems.push(`${relative(root, file)}: ${lines.length} lines; split it by job, or say why not in a comment "Over 400 lines: <reason>" in its first ${reasonWithin} lines`);
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  console.error(`lint:size: ${problems.length} file(s) over ${limit} lines without a reason`);
  process.exit(1);
}
console.log(`lint:size: ${files.length} files, none over ${limit} lines without a reason`);
